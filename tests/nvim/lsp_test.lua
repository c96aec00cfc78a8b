-- Headless Neovim test of `jue lsp` through editors/neovim (Neovim 0.7 and later).
-- Env: JUE_LSP = server program; JUE_LSP_ARGS = its arguments (space separated,
-- default "lsp"); JUE_REPO = repository root. Prints "OK" and exits 0 on success.
local server = assert(os.getenv('JUE_LSP'), 'JUE_LSP not set')
local args = os.getenv('JUE_LSP_ARGS') or 'lsp'
local repo = assert(os.getenv('JUE_REPO'), 'JUE_REPO not set')

local function out(s) io.stdout:write(s .. '\n') end
local function fail(msg)
  io.stderr:write('FAIL: ' .. msg .. '\n')
  vim.cmd('cquit 1')
end

local ok, err = pcall(function()
  local cmd = { server }
  for a in args:gmatch('%S+') do table.insert(cmd, a) end

  vim.opt.runtimepath:prepend(repo .. '/editors/neovim')
  require('jue').setup({ cmd = cmd })

  -- A project: jue.toml grants IoPersist; the file uses IoNetwork undeclared.
  local dir = vim.fn.tempname()
  vim.fn.mkdir(dir .. '/src', 'p')
  local toml = io.open(dir .. '/jue.toml', 'w')
  toml:write('[capabilities]\ngranted = ["IoPersist"]\n')
  toml:close()
  local file = dir .. '/src/main.jue'
  local f = io.open(file, 'w')
  f:write(';; Fetches a page.\n(define (fetch url)\n  (net:http-get url))\n(fetch "http://example.com")\n')
  f:close()

  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local bufnr = vim.api.nvim_get_current_buf()
  if vim.bo[bufnr].filetype ~= 'jue' then return fail('filetype is ' .. vim.bo[bufnr].filetype) end

  local function client()
    local list = vim.lsp.get_clients and vim.lsp.get_clients({ bufnr = bufnr }) or vim.lsp.buf_get_clients(bufnr)
    for _, c in pairs(list) do
      if c.name == 'jue' then return c end
    end
  end
  if not vim.wait(10000, function() return client() ~= nil end, 20) then return fail('no client attached') end
  local c = client()
  local root = vim.loop.fs_realpath(c.config.root_dir)
  if root ~= vim.loop.fs_realpath(dir) then return fail('root_dir ' .. tostring(c.config.root_dir) .. ' ~= ' .. dir) end
  out('ROOT ok')

  -- 1. Diagnostics: W0301 on net:http-get (line 2, columns 3-15).
  local function w0301()
    for _, d in ipairs(vim.diagnostic.get(bufnr)) do
      local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
      if code == 'W0301' then return d end
    end
  end
  if not vim.wait(10000, function() return w0301() ~= nil end, 20) then
    return fail('no W0301 diagnostic: ' .. vim.inspect(vim.diagnostic.get(bufnr)))
  end
  local d = w0301()
  out(string.format('DIAG %d:%d-%d:%d sev=%d %s', d.lnum, d.col, d.end_lnum, d.end_col, d.severity, d.message))
  if d.lnum ~= 2 or d.col ~= 3 or d.end_col ~= 15 or d.severity ~= vim.diagnostic.severity.WARN then
    return fail('unexpected W0301 position/severity')
  end

  local uri = vim.uri_from_bufnr(bufnr)
  local function request(method, params)
    local results, e = vim.lsp.buf_request_sync(bufnr, method, params, 5000)
    if not results then error(method .. ' failed: ' .. tostring(e)) end
    for _, r in pairs(results) do
      if r.error then error(method .. ': ' .. vim.inspect(r.error)) end
      return r.result
    end
  end
  local function at(line, character)
    return { textDocument = { uri = uri }, position = { line = line, character = character } }
  end

  -- 2. Hover on net:http-get: the one renderer, as Markdown.
  local hover = request('textDocument/hover', at(2, 5))
  local text = hover and hover.contents and hover.contents.value or ''
  out('HOVER ' .. text:gsub('\n', ' | '))
  if not text:find('net:http-get (String) → String', 1, true) or not text:find('not granted', 1, true) then
    return fail('unexpected hover')
  end
  -- Hover on the user function shows its ;; doc.
  local h2 = request('textDocument/hover', at(3, 2))
  if not (h2 and h2.contents.value:find('Fetches a page.', 1, true)) then return fail('no doc in hover: ' .. vim.inspect(h2)) end

  -- 3. Completion inside (fetch ...) at the start of the argument: FFI names with docs.
  local comp = request('textDocument/completion', at(3, 7))
  local items = comp and (comp.items or comp) or {}
  local found
  for _, it in ipairs(items) do
    if it.label == 'net:http-get' then found = it end
  end
  if not found then return fail('net:http-get not offered among ' .. #items .. ' items') end
  out('COMPLETION ' .. #items .. ' items; net:http-get ' .. tostring(found.detail))

  -- 4. Code action for W0301, applied; the warning goes away.
  local actions = request('textDocument/codeAction', {
    textDocument = { uri = uri },
    range = { start = { line = 2, character = 3 }, ['end'] = { line = 2, character = 3 } },
    context = { diagnostics = {} },
  }) or {}
  local fix
  for _, a in ipairs(actions) do
    if a.title == 'add `(require-capability IoNetwork)`' then fix = a end
  end
  if not fix then return fail('no W0301 fix in ' .. vim.inspect(actions)) end
  out('ACTION ' .. fix.title)
  vim.lsp.util.apply_workspace_edit(fix.edit, c.offset_encoding or 'utf-16')
  out('ENCODING ' .. tostring(c.offset_encoding))
  local line = vim.api.nvim_buf_get_lines(bufnr, 2, 3, false)[1]
  if line ~= '  (require-capability IoNetwork)' then return fail('after the fix, line 3 is ' .. line) end
  if not vim.wait(10000, function() return w0301() == nil and #vim.diagnostic.get(bufnr) == 0 end, 20) then
    return fail('diagnostics after the fix: ' .. vim.inspect(vim.diagnostic.get(bufnr)))
  end
  out('FIXED')

  -- 5. Clean shutdown.
  vim.lsp.stop_client(c.id)
  if not vim.wait(3000, function() return vim.lsp.get_client_by_id(c.id) == nil end, 20) then
    return fail('server did not stop')
  end
  out('OK')
  vim.cmd('qall!')
end)
if not ok then fail(tostring(err)) end
