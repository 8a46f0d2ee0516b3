-- r2c for Neovim 0.7+: starts `r2c serve` for Python, Markdown and LaTeX
-- buffers (one server per project root) and adds :R2CImplement,
-- :R2CValidate, :R2CLearnStyle and :R2CIndexPaper. Diagnostics, quick fixes and the
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

--- Returns the project root of a buffer.
function M.root(bufnr)
  local name = vim.api.nvim_buf_get_name(bufnr)
  local dir = name ~= '' and vim.fn.fnamemodify(name, ':p:h') or vim.loop.cwd()
  local cur = dir
  while true do
    for _, marker in ipairs(config.root_markers) do
      if vim.loop.fs_stat(cur .. '/' .. marker) then
        return cur
      end
    end
    local parent = vim.fn.fnamemodify(cur, ':h')
    if parent == cur then
      return dir
    end
    cur = parent
  end
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

local function ensure_client(root)
  local id = clients[root]
  if id and vim.lsp.get_client_by_id(id) and not vim.lsp.client_is_stopped(id) then
    return id
  end
  local capabilities = vim.lsp.protocol.make_client_capabilities()
  local handlers = {}
  capabilities.workspace = capabilities.workspace or {}
  local builtin = capabilities.workspace.didChangeWatchedFiles
  if not (builtin and builtin.dynamicRegistration) then
    capabilities.workspace.didChangeWatchedFiles = { dynamicRegistration = true, relativePatternSupport = true }
    handlers['client/registerCapability'] = register_capability
    handlers['client/unregisterCapability'] = unregister_capability
  end
  id = vim.lsp.start_client({
    name = 'r2c',
    cmd = config.cmd,
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = root } },
    init_options = config.settings,
    capabilities = capabilities,
    handlers = handlers,
    on_attach = config.on_attach,
    on_exit = function(_, _, client_id)
      stop_watches(client_id)
      watches[client_id] = nil
    end,
  })
  if not id then
    notify('could not start ' .. table.concat(config.cmd, ' ') .. ' (is r2c on your PATH?)', vim.log.levels.ERROR)
    return nil
  end
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

--- Runs an r2c command; on_done(err, result) is called with the answer.
function M.execute(command, arguments, bufnr, on_done)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local client = M.client(bufnr)
  if not client then
    notify('no r2c server is attached to this buffer', vim.log.levels.ERROR)
    return
  end
  local params = { command = command }
  if arguments and #arguments > 0 then
    params.arguments = arguments
  end
  client.request('workspace/executeCommand', params, function(err, result)
    if err then
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

--- Implements a paper section; missing arguments are asked for.
function M.implement(paper, section, target, bufnr, on_done)
  paper = (paper and paper ~= '') and paper or vim.fn.input('Paper (path or arXiv id): ', '', 'file')
  if paper == '' then
    return
  end
  section = (section and section ~= '') and section or vim.fn.input('Section (number or title): ')
  if section == '' then
    return
  end
  target = (target and target ~= '') and target or vim.fn.input('Target folder: ', '', 'dir')
  M.execute('r2c.implement', { { paper = paper, section = section, targetDir = target } }, bufnr, on_done)
end

function M.setup(opts)
  config = vim.tbl_deep_extend('force', vim.deepcopy(defaults), opts or {})
  local group = vim.api.nvim_create_augroup('r2c', { clear = true })
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = config.filetypes,
    callback = function(ev)
      M.attach(ev.buf)
    end,
  })
  vim.api.nvim_create_user_command('R2CImplement', function(c)
    -- :R2CImplement paper.pdf 3.2 [target/folder]; a section with spaces
    -- is easier through the prompt (run without arguments).
    M.implement(c.fargs[1], c.fargs[2], c.fargs[3])
  end, { nargs = '*', complete = 'file', desc = 'r2c: implement a paper section' })
  vim.api.nvim_create_user_command('R2CValidate', function()
    M.validate()
  end, { desc = 'r2c: validate this module (syntax, tests, style)' })
  vim.api.nvim_create_user_command('R2CIndexPaper', function(c)
    M.index_paper(c.fargs[1])
  end, { nargs = '?', complete = 'file', desc = 'r2c: add a paper to the retrieval index' })
  vim.api.nvim_create_user_command('R2CLearnStyle', function()
    M.learn_style()
  end, { desc = 'r2c: learn my style from this workspace' })
  for _, b in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(b) and vim.tbl_contains(config.filetypes, vim.api.nvim_buf_get_option(b, 'filetype')) then
      M.attach(b)
    end
  end
end

return M
