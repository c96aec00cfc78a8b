-- Jue for Neovim: the `jue` filetype and the `jue lsp` language server.
-- Works on Neovim 0.7 (Debian bookworm) and later:
--   0.11+  vim.lsp.config + vim.lsp.enable
--   0.8+   vim.lsp.start from a FileType autocmd
--   0.7    vim.lsp.start_client + vim.lsp.buf_attach_client (one client per root)
--
-- Usage (init.lua):  require('jue').setup()            -- `jue` on PATH
--                    require('jue').setup({ cmd = { '/path/to/jue', 'lsp' } })
local M = {}

M.config = {
  cmd = { 'jue', 'lsp' },
  root_markers = { 'jue.toml', '.git' },
}

local function dirname(p)
  return vim.fn.fnamemodify(p, ':h')
end

-- The project root of a file: the nearest directory above it holding jue.toml or
-- .git; else the file's directory.
function M.find_root(path)
  if path == nil or path == '' then
    return vim.fn.getcwd()
  end
  local dir = vim.fn.fnamemodify(path, ':p:h')
  if vim.fs and vim.fs.find then
    local found = vim.fs.find(M.config.root_markers, { path = dir, upward = true })[1]
    if found then
      return dirname(found)
    end
    return dir
  end
  -- Neovim 0.7: finddir/findfile searching upwards (`;`); the nearest of the two wins.
  local best
  local f = vim.fn.findfile('jue.toml', dir .. ';')
  if f ~= '' then
    best = vim.fn.fnamemodify(f, ':p:h')
  end
  local g = vim.fn.finddir('.git', dir .. ';')
  if g ~= '' then
    local groot = vim.fn.fnamemodify(vim.fn.fnamemodify(g, ':p'):gsub('/$', ''), ':h')
    if best == nil or #groot > #best then
      best = groot
    end
  end
  return best or dir
end

local function client_config(root)
  return {
    name = 'jue',
    cmd = M.config.cmd,
    root_dir = root,
    workspace_folders = {
      { uri = vim.uri_from_fname(root), name = vim.fn.fnamemodify(root, ':t') },
    },
  }
end

local clients_by_root = {} -- Neovim 0.7 only

local function start(bufnr)
  local root = M.find_root(vim.api.nvim_buf_get_name(bufnr))
  if vim.lsp.start then -- 0.8+
    return vim.lsp.start(client_config(root), { bufnr = bufnr })
  end
  local id = clients_by_root[root]
  if id == nil or vim.lsp.get_client_by_id(id) == nil then
    id = vim.lsp.start_client(client_config(root))
    clients_by_root[root] = id
  end
  if id then
    vim.lsp.buf_attach_client(bufnr, id)
  end
  return id
end
M.start = start

function M.setup(opts)
  M.config = vim.tbl_deep_extend('force', M.config, opts or {})
  local group = vim.api.nvim_create_augroup('jue', { clear = true })

  -- The filetype. (On 0.7, vim.filetype.add works only with g:do_filetype_lua.)
  vim.api.nvim_create_autocmd({ 'BufRead', 'BufNewFile' }, {
    group = group,
    pattern = '*.jue',
    command = 'setfiletype jue',
  })
  if vim.fn.has('nvim-0.8') == 1 and vim.filetype and vim.filetype.add then
    vim.filetype.add({ extension = { jue = 'jue' } })
  end
  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = 'jue',
    callback = function(args)
      vim.bo[args.buf].commentstring = ';; %s'
      vim.bo[args.buf].comments = ':;;,:;'
    end,
  })

  if vim.fn.has('nvim-0.11') == 1 and vim.lsp.config and vim.lsp.enable then
    vim.lsp.config('jue', {
      cmd = M.config.cmd,
      filetypes = { 'jue' },
      root_dir = function(bufnr, on_dir)
        on_dir(M.find_root(vim.api.nvim_buf_get_name(bufnr)))
      end,
    })
    vim.lsp.enable('jue')
    return
  end

  vim.api.nvim_create_autocmd('FileType', {
    group = group,
    pattern = 'jue',
    callback = function(args)
      start(args.buf)
    end,
  })
end

return M
