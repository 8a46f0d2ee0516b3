-- Headless Neovim session driven by lsp/e2e TestNeovimCommands: every
-- command of the plugin, as a user would type it, against the real r2c
-- binary and the scripted model server. vim.ui.select and vim.ui.input are
-- answered the way a user picks (the row matching a wanted text, the
-- default folder), and vim.notify is recorded. What Neovim ended up with is
-- written as JSON to R2C_OUT.
--
-- Environment: R2C_BIN, R2C_WS (the workspace), R2C_OUT.
local out = { notes = {}, selects = {}, inputs = {} }
local ws = os.getenv('R2C_WS')

local function finish(err)
  out.error = err
  local f = assert(io.open(os.getenv('R2C_OUT'), 'w'))
  f:write(vim.fn.json_encode(out))
  f:close()
  vim.cmd('qa!')
end

vim.notify = function(msg, level)
  table.insert(out.notes, { msg = msg, level = level or vim.log.levels.INFO })
end

local function noted(pattern, since)
  for i = (since or 0) + 1, #out.notes do
    if out.notes[i].msg:find(pattern) then
      return out.notes[i].msg
    end
  end
  return nil
end

local function wait_note(pattern, what, since, ms)
  local msg
  if not vim.wait(ms or 120000, function()
    msg = noted(pattern, since)
    return msg ~= nil
  end, 50) then
    error('no notification ' .. what .. '; got ' .. vim.inspect(out.notes))
  end
  return msg
end

-- The user's answers to the pickers: the row whose text holds the wanted
-- string, and the default of each input.
local want = {}
vim.ui.select = function(items, opts, on_choice)
  local rows = {}
  local pick
  for i, it in ipairs(items) do
    local text = opts.format_item and opts.format_item(it) or tostring(it)
    rows[i] = text
    if not pick and want[1] and text:find(want[1], 1, true) then
      pick = it
    end
  end
  table.insert(out.selects, { prompt = opts.prompt, rows = rows })
  table.remove(want, 1)
  vim.schedule(function()
    on_choice(pick)
  end)
end
vim.ui.input = function(opts, on_confirm)
  table.insert(out.inputs, { prompt = opts.prompt, default = opts.default })
  vim.schedule(function()
    on_confirm(opts.default)
  end)
end

local function syntax_count(bufnr)
  local n = 0
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if d.source == 'r2c-syntax' then
      n = n + 1
    end
  end
  return n
end

local ok, err = pcall(function()
  local r2c = require('r2c')
  r2c.setup({ cmd = { os.getenv('R2C_BIN'), 'serve' } })
  vim.cmd('edit ' .. vim.fn.fnameescape(ws .. '/bad.py'))
  local bad = vim.api.nvim_get_current_buf()
  if not vim.wait(30000, function() return r2c.client(bad) ~= nil end, 20) then
    error('r2c did not attach')
  end
  out.root = r2c.root(bad)

  -- :checkhealth r2c
  vim.cmd('checkhealth r2c')
  out.health = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  vim.cmd('bwipeout!')
  vim.cmd('buffer ' .. bad)

  -- :R2cValidate on a syntax error: CPython's verdict, shown once.
  if not vim.wait(30000, function() return syntax_count(bad) > 0 end, 20) then
    error('no live syntax diagnostic')
  end
  local n = #out.notes
  vim.cmd('R2cValidate')
  out.validate_bad = wait_note('bad%.py failed', 'for validating bad.py', n)
  vim.wait(2000, function() return false end, 50) -- a duplicate would have arrived
  out.syntax_after_validate = syntax_count(bad)

  -- :R2cIndex papers/attention.md
  n = #out.notes
  vim.cmd('R2cIndex ' .. vim.fn.fnameescape(ws .. '/papers/attention.md'))
  out.index_note = wait_note('[Ii]ndex', 'for indexing', n, 60000)

  -- :R2cImplement: the paper, then the section, from vim.ui.select; the
  -- folder from vim.ui.input (its default).
  want = { 'papers/attention.md', '3.2 Scaled Dot-Product Attention' }
  n = #out.notes
  vim.cmd('R2cImplement')
  out.implement_note = wait_note('passed: %d+ files', 'for the implement run', n, 240000)
  if not vim.wait(10000, function() return vim.fn.expand('%:t') == 'attention.py' end, 20) then
    error('attention.py was not opened; current buffer ' .. vim.fn.expand('%:p'))
  end
  local mod = vim.api.nvim_get_current_buf()
  out.opened = vim.fn.expand('%:p')
  if not vim.wait(30000, function() return r2c.client(mod) ~= nil end, 20) then
    error('r2c did not attach to the generated module')
  end
  out.generated_root = r2c.root(mod)
  out.clients = vim.tbl_count(r2c.clients())

  -- :R2cValidate on the generated module: its generated tests pass.
  n = #out.notes
  vim.cmd('R2cValidate')
  out.validate_generated = wait_note('tests passed', 'for validating attention.py', n)

  -- :R2cStyleLearn
  n = #out.notes
  vim.cmd('R2cStyleLearn')
  out.profile_written = vim.wait(60000, function() return vim.loop.fs_stat(ws .. '/.r2c/style.json') ~= nil end, 50)
  out.learn_note = wait_note('learned', 'for learning the style', n, 30000)

  -- :R2cLog
  vim.cmd('R2cLog')
  out.log = vim.api.nvim_buf_get_lines(0, 0, -1, false)
  out.log_name = vim.api.nvim_buf_get_name(0)
  vim.cmd('close')

  -- :R2cRestart: a new server, attached to the open buffers.
  local before = r2c.client(mod).id
  local restarted = false
  r2c.restart(function() restarted = true end)
  if not vim.wait(30000, function() return restarted and r2c.client(mod) ~= nil end, 20) then
    error('no server after :R2cRestart')
  end
  out.restarted = r2c.client(mod).id ~= before
  n = #out.notes
  vim.cmd('R2cRestart')
  out.restart_note = wait_note('restarted', 'after :R2cRestart', n, 30000)

  -- :R2cCancel with nothing running says so.
  n = #out.notes
  vim.cmd('R2cCancel')
  out.cancel_note = noted('nothing is running', n)
end)
finish(not ok and tostring(err) or nil)
