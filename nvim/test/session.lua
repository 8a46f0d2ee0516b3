-- Headless Neovim session driven by cmd/r2c's TestNeovim: open a Python
-- file, wait for r2c's style diagnostics, run "Validate module" through the
-- code-action API, apply a quick fix, learn a new style profile through
-- executeCommand, then rewrite the profile with `r2c style learn` as a
-- terminal would, and write what Neovim ended up with as JSON.
--
-- Environment: R2C_BIN (the r2c binary), R2C_FILE (the Python file),
-- R2C_OUT (where the JSON goes).
local out = {}
local function finish(err)
  out.error = err
  local f = assert(io.open(os.getenv('R2C_OUT'), 'w'))
  f:write(vim.fn.json_encode(out))
  f:close()
  vim.cmd('qa!')
end

local function diagnostics(bufnr)
  local list = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    local code = d.code
    if code == nil and d.user_data and d.user_data.lsp then
      code = d.user_data.lsp.code
    end
    table.insert(list, { lnum = d.lnum, col = d.col, message = d.message, source = d.source, code = code, severity = d.severity })
  end
  return list
end

local ok, err = pcall(function()
  require('r2c').setup({ cmd = { os.getenv('R2C_BIN'), 'serve' } })
  vim.cmd('edit ' .. vim.fn.fnameescape(os.getenv('R2C_FILE')))
  local bufnr = vim.api.nvim_get_current_buf()

  if not vim.wait(30000, function() return require('r2c').client(bufnr) ~= nil end, 20) then
    error('r2c did not attach')
  end
  if not vim.wait(30000, function() return #vim.diagnostic.get(bufnr) > 0 end, 20) then
    error('no style diagnostics arrived')
  end
  out.style = diagnostics(bufnr)

  -- "Validate module" through the code-action API, as a user picking it from
  -- vim.lsp.buf.code_action() would.
  local params = vim.lsp.util.make_range_params()
  params.context = { diagnostics = {} }
  local actions, done = nil, false
  vim.lsp.buf_request(bufnr, 'textDocument/codeAction', params, function(e, result)
    if e then error(vim.inspect(e)) end
    actions = result
  end)
  if not vim.wait(30000, function() return actions ~= nil end, 20) then
    error('no code actions')
  end
  out.actions = {}
  local validate
  for _, a in ipairs(actions) do
    table.insert(out.actions, a.title)
    if a.command and a.command.command == 'r2c.validate' then
      validate = a
    end
  end
  if not validate then
    error('no Validate module action among ' .. vim.inspect(out.actions))
  end
  local client = require('r2c').client(bufnr)
  client.request('workspace/executeCommand', validate.command, function(e, result)
    out.validate_error = e and e.message or nil
    out.summary = result
    done = true
  end, bufnr)
  if not vim.wait(120000, function() return done end, 20) then
    error('validation did not finish')
  end
  vim.wait(30000, function()
    for _, d in ipairs(vim.diagnostic.get(bufnr)) do
      if d.source == 'r2c-test' then return true end
    end
    return false
  end, 20)
  out.validated = diagnostics(bufnr)

  -- The style quick fix, applied the way vim.lsp.buf.code_action() does
  -- (Neovim 0.7 gets a WorkspaceEdit with "changes": it has no documentChanges).
  vim.api.nvim_win_set_cursor(0, { 1, 4 })
  local fparams = vim.lsp.util.make_range_params()
  fparams.context = { diagnostics = {}, only = { 'quickfix' } }
  local fixes
  vim.lsp.buf_request(bufnr, 'textDocument/codeAction', fparams, function(e, result)
    if e then error(vim.inspect(e)) end
    fixes = result or {}
  end)
  if not vim.wait(30000, function() return fixes ~= nil end, 20) then
    error('no quick fixes answer')
  end
  if #fixes == 0 then
    error('no quick fix for computeValue')
  end
  out.fix_title = fixes[1].title
  vim.lsp.util.apply_workspace_edit(fixes[1].edit, client.offset_encoding)
  out.fixed_line = vim.api.nvim_buf_get_lines(bufnr, 0, 1, false)[1]
  vim.wait(30000, function()
    for _, d in ipairs(vim.diagnostic.get(bufnr)) do
      if d.source == 'r2c-style' then return false end
    end
    return true
  end, 20)
  out.after_fix = diagnostics(bufnr)

  local function has_style()
    for _, d in ipairs(vim.diagnostic.get(bufnr)) do
      if d.source == 'r2c-style' then return true end
    end
    return false
  end

  -- "Learn my style" through executeCommand, from a camelCase code base:
  -- the buffer's (now snake_case) function breaks the new profile.
  local ws = vim.fn.fnamemodify(os.getenv('R2C_FILE'), ':h')
  local learned
  client.request('workspace/executeCommand', { command = 'r2c.learnStyle', arguments = { { dirs = { ws .. '/camel' } } } }, function(e, result)
    out.learn_error = e and e.message or nil
    learned = result or {}
  end, bufnr)
  if not vim.wait(60000, function() return learned ~= nil end, 20) then
    error('r2c.learnStyle did not answer')
  end
  out.learn_summary = learned.summary
  vim.wait(30000, has_style, 20)
  out.after_learn = diagnostics(bufnr)

  -- `r2c style learn` in a terminal rewrites the profile (snake_case
  -- again): the server hears of it through the file watcher this plugin
  -- provides for Neovim 0.7 and drops the finding.
  out.watched = require('r2c').watched_files(client.id)
  vim.fn.system({ os.getenv('R2C_BIN'), 'style', 'learn', '-o', ws .. '/.r2c/style.json', ws .. '/lib' })
  out.terminal_learn_status = vim.v.shell_error
  vim.wait(30000, function() return not has_style() end, 20)
  out.after_terminal_learn = diagnostics(bufnr)

  -- The profile's folder removed, then created anew by `r2c style learn`
  -- (camelCase this time): the watch falls back to the workspace folder
  -- while .r2c/ is missing and still sees the new profile.
  vim.fn.delete(ws .. '/.r2c', 'rf')
  vim.wait(10000, function()
    return not vim.tbl_contains(require('r2c').watched_files(client.id), ws .. '/.r2c')
  end, 20)
  vim.fn.system({ os.getenv('R2C_BIN'), 'style', 'learn', '-o', ws .. '/.r2c/style.json', ws .. '/camel' })
  out.recreate_learn_status = vim.v.shell_error
  vim.wait(30000, has_style, 20)
  out.after_recreate = diagnostics(bufnr)
end)
finish(not ok and tostring(err) or nil)
