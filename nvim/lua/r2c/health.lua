-- :checkhealth r2c — the binary and its version, then what `r2c doctor`
-- finds for the project of the current buffer (configuration, model
-- endpoint and model or adapter, python3 and pytest, the sandbox level,
-- the style profile), each problem with its fix.
local M = {}

-- Neovim 0.9 moved the reporters to vim.health; 0.7 and 0.8 have
-- require('health') with report_* names.
local h = vim.health or require('health')
local start = h.start or h.report_start
local ok = h.ok or h.report_ok
local warn = h.warn or h.report_warn
local error_ = h.error or h.report_error
local info = h.info or h.report_info

function M.check()
  start('r2c: Neovim')
  if vim.fn.has('nvim-0.7') == 1 then
    ok('Neovim ' .. tostring(vim.version().major) .. '.' .. tostring(vim.version().minor) .. ' (0.7 or later is needed)')
  else
    error_('Neovim 0.7 or later is needed', { 'Debian 12 ships 0.7.2: apt-get install neovim' })
  end

  local r2c = require('r2c')
  local cmd = r2c.config().cmd
  start('r2c: binary')
  if vim.fn.executable(cmd[1]) ~= 1 then
    error_(cmd[1] .. ' is not an executable on PATH', {
      'install it: `go install ./cmd/r2c` (or `make build`, then use bin/r2c) in the r2c repository',
      "or point the plugin at it: require('r2c').setup({ cmd = { '/path/to/r2c', 'serve' } })",
    })
    return
  end
  local version = vim.fn.system({ cmd[1], 'version' })
  if vim.v.shell_error ~= 0 then
    error_(cmd[1] .. ' version failed: ' .. vim.trim(version), { 'rebuild r2c: `go install ./cmd/r2c`' })
    return
  end
  ok(vim.fn.exepath(cmd[1]) .. ': ' .. vim.trim(version))
  local clients = r2c.clients()
  if next(clients) == nil then
    info('no r2c server is running yet: open a Python, Markdown or LaTeX file of your project')
  end
  for root, id in pairs(clients) do
    ok('server running for ' .. root .. ' (client ' .. id .. ')')
  end

  local root = r2c.root(vim.api.nvim_get_current_buf())
  start('r2c: project ' .. root .. ' (r2c doctor)')
  local out = vim.fn.system({ cmd[1], 'doctor', '--root', root, '--json' })
  local okj, report = pcall(vim.fn.json_decode, out)
  if not okj or type(report) ~= 'table' or type(report.checks) ~= 'table' then
    error_('r2c doctor --json gave no report: ' .. vim.trim(out):sub(1, 300), { 'run `r2c doctor --root ' .. root .. '` in a terminal' })
    return
  end
  local c = report.config or {}
  local model = type(c.model) == 'table' and c.model.name or nil
  if c.endpoint then
    info('endpoint ' .. tostring(c.endpoint) .. (model and (', model or adapter ' .. tostring(model)) or ''))
  end
  for _, chk in ipairs(report.checks) do
    local line = chk.name .. ': ' .. (chk.detail or '')
    local advice = (chk.fix and chk.fix ~= '') and { chk.fix } or nil
    if chk.status == 'ok' then
      ok(line)
    elseif chk.status == 'warn' then
      warn(line, advice)
    else
      error_(line, advice)
    end
  end
end

return M
