-- r2c for Neovim 0.7+: starts `r2c serve` for Python, Markdown and LaTeX
-- buffers (one server per project root) and adds :R2cImplement (pickers
-- through vim.ui.select over the paper's section tree), :R2cValidate,
-- :R2cIndex, :R2cStyleLearn, :R2cLog, :R2cRestart and :R2cCancel, with
-- :checkhealth r2c in lua/r2c/health.lua. Diagnostics, quick fixes and the
-- "Validate module" / "Implement paper section" code actions come through
-- Neovim's built-in LSP client (vim.lsp.buf.code_action()).
--
-- Neovim 0.7 has no vim.lsp.start, so this uses vim.lsp.start_client and
-- vim.lsp.buf_attach_client, which later versions still support.

local M = {}

local defaults = {
  -- Command that starts the server; add '--log', '/tmp/r2c-lsp.log' to debug.
  cmd = { 'r2c', 'serve' },
  filetypes = { 'python', 'markdown', 'tex', 'plaintex' },
  -- The first folder upwards holding one of these is the workspace root.
  root_markers = { 'r2c.toml', 'pyproject.toml', 'setup.py', 'setup.cfg', '.git' },
  -- Sent as initializationOptions: the same keys as r2c.toml, e.g.
  -- { endpoint = 'http://localhost:8080/v1', server = { validate_on_save = true } }
  settings = {},
  on_attach = nil,
}

local config = vim.deepcopy(defaults)
local clients = {} -- root folder -> client id

local function notify(msg, level)
  vim.notify('r2c: ' .. msg, level or vim.log.levels.INFO)
end

local generated = {} -- folder r2c generated code into -> the root it belongs to

local function under(path, dir)
  return path == dir or path:sub(1, #dir + 1) == dir .. '/'
end

--- Returns the project root of a buffer: the first folder upwards holding
--- a root marker. A folder r2c generated code into never becomes a root of
--- its own (it has no marker; a second server there would not see the
--- project's r2c.toml or style profile): its files belong to the root the
--- run was started from, and any file without a marker above it belongs to
--- the root of a running r2c server that contains it.
function M.root(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  local dir = name ~= '' and vim.fn.fnamemodify(name, ':p:h') or vim.loop.cwd()
  dir = dir:gsub('/$', '')
  for folder, root in pairs(generated) do
    if under(dir, folder) then
      return root
    end
  end
  local cur = dir
  while true do
    for _, marker in ipairs(config.root_markers) do
      if vim.loop.fs_stat(cur .. '/' .. marker) then
        return cur
      end
    end
    local parent = vim.fn.fnamemodify(cur, ':h')
    if parent == cur then
      break
    end
    cur = parent
  end
  local best
  for root, _ in pairs(clients) do
    if under(dir, root) and (best == nil or #root > #best) then
      best = root
    end
  end
  if best then
    return best
  end
  local cwd = vim.loop.cwd()
  if under(dir, cwd) then
    return cwd
  end
  return dir
end

-- File watching. r2c asks the editor (client/registerCapability for
-- workspace/didChangeWatchedFiles) to report changes to r2c.toml and the
-- style profile, so that `r2c style learn` in a terminal or an edit of
-- r2c.toml takes effect without a restart. Neovim before 0.9 has no such
-- watcher (it answers registerCapability with a warning), so this plugin
-- provides one for r2c's registrations: each names exact files, watched
-- through their folder with libuv (the profile is replaced by a rename,
-- which a watch on the file itself would lose); a folder that does not
-- exist yet is waited for on its nearest existing ancestor.
local watches = {} -- client id -> registration id -> list of { h = uv fs_event }

-- The file a watcher's glob names: r2c escapes special characters as
-- one-character classes ("[*]").
local function unglob(s)
  return (s:gsub('%[(.)%]', '%1'))
end

local function watched_file(glob)
  if type(glob) == 'string' then
    return unglob(glob)
  end
  if type(glob) == 'table' and glob.baseUri and glob.pattern then
    local base = type(glob.baseUri) == 'table' and glob.baseUri.uri or glob.baseUri
    return vim.uri_to_fname(base) .. '/' .. unglob(glob.pattern)
  end
  return nil
end

local function stop_watches(client_id, reg_id)
  local by_reg = watches[client_id] or {}
  for id, list in pairs(by_reg) do
    if reg_id == nil or id == reg_id then
      for _, w in ipairs(list) do
        w.stopped = true
        if w.h then
          w.h:stop()
          w.h:close()
          w.h = nil
        end
      end
      by_reg[id] = nil
    end
  end
end

-- watch_file keeps one libuv watch for path in w (a table with field h):
-- on its folder when that exists, else on the nearest existing ancestor
-- until the folder appears (`r2c style learn` creates .r2c/ on first use),
-- and back to the ancestor if the folder is removed. report(typ) tells the
-- server.
local function watch_file(w, path, report)
  if w.h then
    w.h:stop()
    w.h:close()
    w.h = nil
  end
  if w.stopped then
    return
  end
  local dir, name = vim.fn.fnamemodify(path, ':h'), vim.fn.fnamemodify(path, ':t')
  local target, waiting = dir, false
  while not vim.loop.fs_stat(target) do
    local parent = vim.fn.fnamemodify(target, ':h')
    if parent == target then
      return
    end
    target, waiting = parent, true
  end
  local h = vim.loop.new_fs_event()
  w.h = h
  h:start(target, {}, function(err, fname)
    vim.schedule(function()
      if w.h ~= h then
        return
      end
      if waiting or err or not vim.loop.fs_stat(dir) then
        -- The folder appeared or went away: move the watch.
        watch_file(w, path, report)
        if not waiting or vim.loop.fs_stat(path) then
          report(vim.loop.fs_stat(path) and 2 or 3)
        end
        return
      end
      if fname == name then
        report(vim.loop.fs_stat(path) and 2 or 3) -- 2 changed (created counts as changed), 3 deleted
      end
    end)
  end)
end

local function register_capability(_, result, ctx)
  for _, reg in ipairs(result and result.registrations or {}) do
    if reg.method == 'workspace/didChangeWatchedFiles' then
      local list = {}
      for _, watcher in ipairs(reg.registerOptions and reg.registerOptions.watchers or {}) do
        local path = watched_file(watcher.globPattern)
        if path then
          local w = {}
          watch_file(w, path, function(typ)
            local client = vim.lsp.get_client_by_id(ctx.client_id)
            if client then
              client.notify('workspace/didChangeWatchedFiles', { changes = { { uri = vim.uri_from_fname(path), type = typ } } })
            end
          end)
          table.insert(list, w)
        end
      end
      watches[ctx.client_id] = watches[ctx.client_id] or {}
      stop_watches(ctx.client_id, reg.id)
      watches[ctx.client_id][reg.id] = list
    end
  end
  return vim.NIL
end

local function unregister_capability(_, result, ctx)
  -- "unregisterations" is the specification's spelling.
  for _, u in ipairs(result and (result.unregisterations or result.unregistrations) or {}) do
    stop_watches(ctx.client_id, u.id)
  end
  return vim.NIL
end

-- Progress and the run log. Work-done progress from r2c goes to the
-- default $/progress handler (which plugins such as fidget.nvim read), to
-- vim.notify when a run begins and ends, to M.status() for the statusline,
-- and with every step to the run log (:R2cLog).
local log_lines = {}
local log_buf -- the :R2cLog buffer, once opened
local active = {} -- token key -> { client_id, token, title, message, percentage }

local function log(line)
  table.insert(log_lines, os.date('%H:%M:%S') .. ' ' .. line)
  if #log_lines > 2000 then
    table.remove(log_lines, 1)
  end
  local buf = log_buf
  if buf and vim.api.nvim_buf_is_valid(buf) then
    vim.api.nvim_buf_set_option(buf, 'modifiable', true)
    vim.api.nvim_buf_set_lines(buf, -1, -1, false, { log_lines[#log_lines] })
    vim.api.nvim_buf_set_option(buf, 'modifiable', false)
  end
end

local function progress_handler(err, result, ctx, cfg)
  local default = vim.lsp.handlers['$/progress']
  if default then
    pcall(default, err, result, ctx, cfg)
  end
  if err or type(result) ~= 'table' or type(result.value) ~= 'table' then
    return vim.NIL
  end
  local v, key = result.value, ctx.client_id .. ':' .. tostring(result.token)
  if v.kind == 'begin' then
    active[key] = { client_id = ctx.client_id, token = result.token, title = v.title or 'r2c', message = v.message, percentage = v.percentage }
    log(string.format('%s: started%s', v.title or 'r2c', v.message and (': ' .. v.message) or ''))
    notify(v.title:gsub('^r2c: ', '') .. (v.cancellable and ' (:R2cCancel stops it)' or ''))
  elseif v.kind == 'report' and active[key] then
    local a = active[key]
    a.message, a.percentage = v.message or a.message, v.percentage or a.percentage
    log(string.format('%s: %s%s', a.title, a.message or '', a.percentage and string.format(' (%d%%)', a.percentage) or ''))
  elseif v.kind == 'end' then
    local a = active[key]
    active[key] = nil
    local title = a and a.title or 'r2c'
    log(string.format('%s: %s', title, v.message or 'done'))
    if v.message then
      notify(title:gsub('^r2c: ', '') .. ': ' .. v.message)
    end
  end
  vim.cmd('redrawstatus')
  return vim.NIL
end

--- A short text for the statusline: the running r2c step, or ''.
function M.status()
  for _, a in pairs(active) do
    local s = a.title:gsub('^r2c: ', 'r2c: ')
    if a.message then
      s = s .. ' · ' .. a.message
    end
    if a.percentage then
      s = s .. string.format(' %d%%', a.percentage)
    end
    return s
  end
  return ''
end

--- The run log's lines (each step of each run, newest last).
function M.log_lines()
  return vim.deepcopy(log_lines)
end

--- Opens the run log in a split (r2c://log).
function M.show_log()
  local buf = log_buf
  if not (buf and vim.api.nvim_buf_is_valid(buf)) then
    buf = vim.api.nvim_create_buf(false, true) -- a scratch buffer: nofile
    vim.api.nvim_buf_set_name(buf, 'r2c://log')
    log_buf = buf
  end
  vim.api.nvim_buf_set_option(buf, 'modifiable', true)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, log_lines)
  vim.api.nvim_buf_set_option(buf, 'modifiable', false)
  vim.cmd('botright split')
  vim.api.nvim_win_set_buf(0, buf)
  return buf
end

--- Cancels every running r2c operation (work-done progress cancel).
function M.cancel()
  local n = 0
  for key, a in pairs(active) do
    local client = vim.lsp.get_client_by_id(a.client_id)
    if client then
      client.notify('window/workDoneProgress/cancel', { token = a.token })
      log(a.title .. ': cancel requested')
      n = n + 1
    end
    active[key] = nil
  end
  if n == 0 then
    notify('nothing is running')
  end
  return n
end

local function ensure_client(root)
  local id = clients[root]
  if id and vim.lsp.get_client_by_id(id) and not vim.lsp.client_is_stopped(id) then
    return id
  end
  local capabilities = vim.lsp.protocol.make_client_capabilities()
  local handlers = { ['$/progress'] = progress_handler }
  capabilities.workspace = capabilities.workspace or {}
  local builtin = capabilities.workspace.didChangeWatchedFiles
  if not (builtin and builtin.dynamicRegistration) then
    capabilities.workspace.didChangeWatchedFiles = { dynamicRegistration = true, relativePatternSupport = true }
    handlers['client/registerCapability'] = register_capability
    handlers['client/unregisterCapability'] = unregister_capability
  end
  if vim.fn.executable(config.cmd[1]) ~= 1 then
    notify(string.format('%s is not an executable on PATH: install r2c (`go install ./cmd/r2c` or `make build` in its repository) or set cmd in require("r2c").setup(); :checkhealth r2c says more', config.cmd[1]), vim.log.levels.ERROR)
    return nil
  end
  id = vim.lsp.start_client({
    name = 'r2c',
    cmd = config.cmd,
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
    -- An empty Lua table would be sent as [] rather than {}.
    init_options = next(config.settings) and config.settings or vim.empty_dict(),
    settings = vim.empty_dict(),
    capabilities = capabilities,
    handlers = handlers,
    on_attach = config.on_attach,
    on_exit = function(code, _, client_id)
      stop_watches(client_id)
      watches[client_id] = nil
      for key, a in pairs(active) do
        if a.client_id == client_id then
          active[key] = nil
        end
      end
      log(string.format('server for %s exited (code %d)', root, code))
    end,
  })
  if not id then
    notify('could not start ' .. table.concat(config.cmd, ' ') .. ' (:checkhealth r2c)', vim.log.levels.ERROR)
    return nil
  end
  log(string.format('server started for %s: %s', root, table.concat(config.cmd, ' ')))
  clients[root] = id
  return id
end

--- Attaches r2c to a buffer, starting a server for its project if needed.
function M.attach(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  if vim.api.nvim_buf_get_option(bufnr, 'buftype') ~= '' then
    return
  end
  local id = ensure_client(M.root(bufnr))
  if id then
    vim.lsp.buf_attach_client(bufnr, id)
  end
end

--- Returns the r2c client attached to a buffer, or nil.
function M.client(bufnr)
  for _, c in pairs(vim.lsp.buf_get_clients(bufnr or 0)) do
    if c.name == 'r2c' then
      return c
    end
  end
  return nil
end

--- Returns the r2c clients by root folder.
function M.clients()
  local out = {}
  for root, id in pairs(clients) do
    if vim.lsp.get_client_by_id(id) then
      out[root] = id
    end
  end
  return out
end

--- Returns the files this plugin watches for a client (see "File watching").
function M.watched_files(client_id)
  local out = {}
  for _, list in pairs(watches[client_id] or {}) do
    for _, w in ipairs(list) do
      local path = w.h and w.h:getpath()
      if path then
        table.insert(out, path)
      end
    end
  end
  table.sort(out)
  return out
end

-- A client for the current buffer, or for the only running server (so a
-- command works from the run log or an empty buffer too).
local function any_client(bufnr)
  local c = M.client(bufnr)
  if c then
    return c
  end
  for _, id in pairs(clients) do
    local cl = vim.lsp.get_client_by_id(id)
    if cl then
      return cl
    end
  end
  return nil
end

--- Runs an r2c command; on_done(err, result) is called with the answer.
function M.execute(command, arguments, bufnr, on_done)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local client = any_client(bufnr)
  if not client then
    notify('no r2c server is running: open a Python, Markdown or LaTeX file of your project (:checkhealth r2c)', vim.log.levels.ERROR)
    if on_done then
      on_done({ message = 'no r2c server' }, nil)
    end
    return
  end
  local params = { command = command }
  if arguments and #arguments > 0 then
    params.arguments = arguments
  end
  client.request('workspace/executeCommand', params, function(err, result)
    if err then
      log(command .. ' failed: ' .. (err.message or vim.inspect(err)))
      notify(err.message or vim.inspect(err), vim.log.levels.ERROR)
    elseif type(result) == 'table' and result.message then
      notify(result.message)
    end
    if on_done then
      on_done(err, result)
    end
  end, bufnr)
end

--- Validates the current Python module: syntax, its tests, style.
function M.validate(bufnr, on_done)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  M.execute('r2c.validate', { { uri = vim.uri_from_bufnr(bufnr) } }, bufnr, on_done)
end

--- Learns a style profile from the workspace.
function M.learn_style(bufnr, on_done)
  M.execute('r2c.learnStyle', nil, bufnr, on_done)
end

--- Adds a paper to the retrieval index (default: the current buffer's file).
function M.index_paper(paper, bufnr, on_done)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  paper = (paper and paper ~= '') and paper or vim.api.nvim_buf_get_name(bufnr)
  M.execute('r2c.indexPaper', { { paper = paper } }, bufnr, on_done)
end

--- The papers under root: .pdf, .md and .tex files (READMEs and r2c's
--- own folders left out), relative paths sorted.
function M.papers(root)
  local out = {}
  for _, ext in ipairs({ 'pdf', 'md', 'tex' }) do
    for _, p in ipairs(vim.fn.globpath(root, '**/*.' .. ext, false, true)) do
      local rel = p:sub(#root + 2)
      if not rel:match('^%.') and not rel:match('/%.') and not rel:match('node_modules') and not rel:lower():match('readme%.md$') then
        table.insert(out, rel)
      end
    end
  end
  table.sort(out)
  return out
end

--- The section picker's rows from r2c.sections' answer: reading order,
--- children indented. Errors name the fix.
function M.section_items(outline)
  if type(outline) ~= 'table' or outline.sections == nil then
    return nil, "the server's answer to r2c.sections is not a section tree (is r2c too old? `r2c version`)"
  end
  local items = {}
  local function walk(list, depth)
    if type(list) ~= 'table' then
      return
    end
    for _, s in ipairs(list) do
      local heading = s.heading or ''
      if heading == '' then
        heading = vim.trim((s.number or '') .. ' ' .. (s.title or ''))
      end
      if heading ~= '' then
        local facts = {}
        if s.page and s.page ~= vim.NIL and s.page > 0 then
          table.insert(facts, 'p. ' .. s.page)
        end
        if (s.equations or 0) > 0 then
          table.insert(facts, s.equations .. (s.equations == 1 and ' equation' or ' equations'))
        end
        table.insert(items, { heading = heading, depth = depth, facts = table.concat(facts, ', ') })
      end
      walk(s.children, depth + 1)
    end
  end
  walk(outline.sections, 0)
  if #items == 0 then
    return nil, 'no sections were found in this paper; implement it from a heading in its text instead, or try its LaTeX source'
  end
  return items
end

--- A folder name for a section, as the server makes one.
function M.slug(heading)
  local out, under_ = '', false
  for ch in heading:lower():gmatch('.') do
    if ch:match('%l') or (ch:match('%d') and #out > 0) then
      out, under_ = out .. ch, false
    elseif #out > 0 and not under_ then
      out, under_ = out .. '_', true
    end
  end
  out = out:gsub('^_+', ''):gsub('_+$', '')
  return out == '' and 'r2c_section' or out
end

-- Opens what an implement run produced: the module first (not its test).
local function open_result(result)
  local files = type(result) == 'table' and result.files or nil
  if type(files) ~= 'table' or #files == 0 then
    return
  end
  local first = files[1]
  for _, f in ipairs(files) do
    if f:match('%.py$') and not vim.fn.fnamemodify(f, ':t'):match('^test_') then
      first = f
      break
    end
  end
  vim.cmd('edit ' .. vim.fn.fnameescape(first))
end

--- Implements a paper section. Missing arguments are asked for: the paper
--- (vim.ui.select over the workspace's papers, or an arXiv id), the section
--- (vim.ui.select over the tree r2c.sections returns) and the target folder
--- (vim.ui.input, default a new folder named after the section).
function M.implement(paper, section, target, bufnr, on_done)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local root = M.root(bufnr)
  local function done(err, result)
    if on_done then
      on_done(err, result)
    end
  end
  local function run(p, heading, dir)
    dir = vim.fn.fnamemodify(dir, ':p'):gsub('/$', '')
    generated[dir] = root
    M.execute('r2c.implement', { { paper = p, section = heading, targetDir = dir } }, bufnr, function(err, result)
      if not err and type(result) == 'table' then
        if result.applied == false and type(result.files) == 'table' and #result.files > 0 then
          log('r2c wrote the files itself: ' .. table.concat(result.files, ', '))
        end
        open_result(result)
      end
      done(err, result)
    end)
  end
  local function pick_target(p, heading)
    if target and target ~= '' then
      return run(p, heading, target)
    end
    vim.ui.input({ prompt = 'Target folder: ', default = root .. '/' .. M.slug(heading), completion = 'dir' }, function(dir)
      if dir and dir ~= '' then
        run(p, heading, dir)
      else
        done({ message = 'cancelled' }, nil)
      end
    end)
  end
  local function pick_section(p)
    if section and section ~= '' then
      return pick_target(p, section)
    end
    M.execute('r2c.sections', { { paper = p } }, bufnr, function(err, outline)
      if err then
        return done(err, nil)
      end
      local items, why = M.section_items(outline)
      if not items then
        notify(why, vim.log.levels.ERROR)
        return done({ message = why }, nil)
      end
      vim.ui.select(items, {
        prompt = 'Section of ' .. vim.fn.fnamemodify(p, ':t') .. ':',
        format_item = function(it)
          return string.rep('  ', it.depth) .. it.heading .. (it.facts ~= '' and ('  (' .. it.facts .. ')') or '')
        end,
      }, function(choice)
        if choice then
          pick_target(p, choice.heading)
        else
          done({ message = 'cancelled' }, nil)
        end
      end)
    end)
  end
  if paper and paper ~= '' then
    return pick_section(paper)
  end
  local choices = M.papers(root)
  table.insert(choices, 'arXiv id or URL…')
  vim.ui.select(choices, { prompt = 'Paper:' }, function(choice)
    if not choice then
      return done({ message = 'cancelled' }, nil)
    end
    if choice == 'arXiv id or URL…' then
      vim.ui.input({ prompt = 'arXiv id or URL: ' }, function(id)
        if id and id ~= '' then
          pick_section(id)
        else
          done({ message = 'cancelled' }, nil)
        end
      end)
      return
    end
    pick_section(root .. '/' .. choice)
  end)
end

--- Stops every r2c server and starts them again for the open buffers.
function M.restart(on_done)
  local bufs = {}
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(b) and M.client(b) then
      table.insert(bufs, b)
    end
  end
  local ids = {}
  for root, id in pairs(clients) do
    table.insert(ids, id)
    clients[root] = nil
  end
  vim.lsp.stop_client(ids)
  log('restarting ' .. #ids .. ' server(s)')
  local function again()
    for _, id in ipairs(ids) do
      if not vim.lsp.client_is_stopped(id) then
        return vim.defer_fn(again, 50)
      end
    end
    for _, b in ipairs(bufs) do
      M.attach(b)
    end
    notify('restarted')
    if on_done then
      on_done()
    end
  end
  vim.defer_fn(again, 50)
end

function M.setup(opts)
  if vim.fn.has('nvim-0.7') ~= 1 then
    vim.api.nvim_err_writeln('r2c: Neovim 0.7 or later is needed')
    return
  end
  config = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts or {})
  local group = vim.api.nvim_create_augroup('r2c', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = config.filetypes,
    callback = function(ev)
      M.attach(ev.buf)
    end,
  })
  local cmd = vim.api.nvim_create_user_command
  cmd('R2cImplement', function(c)
    -- :R2cImplement [paper [section [folder]]]; what is missing is picked.
    M.implement(c.fargs[1], c.fargs[2], c.fargs[3])
  end, { nargs = '*', complete = 'file', desc = 'r2c: implement a paper section' })
  cmd('R2cValidate', function()
    M.validate()
  end, { desc = 'r2c: validate this module (syntax, tests, style)' })
  cmd('R2cIndex', function(c)
    M.index_paper(c.fargs[1])
  end, { nargs = '?', complete = 'file', desc = 'r2c: add a paper to the retrieval index' })
  cmd('R2cStyleLearn', function()
    M.learn_style()
  end, { desc = 'r2c: learn my style from this workspace' })
  cmd('R2cLog', function()
    M.show_log()
  end, { desc = "r2c: show the run log (each run's steps)" })
  cmd('R2cRestart', function()
    M.restart()
  end, { desc = 'r2c: restart the language server' })
  cmd('R2cCancel', function()
    M.cancel()
  end, { desc = 'r2c: cancel the running operation' })
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(b) and vim.tbl_contains(config.filetypes, vim.api.nvim_buf_get_option(b, 'filetype')) then
      M.attach(b)
    end
  end
end

--- The effective configuration (for :checkhealth r2c).
function M.config()
  return vim.deepcopy(config)
end

return M
