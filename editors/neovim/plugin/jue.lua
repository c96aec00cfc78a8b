-- Registers the `jue` filetype even before setup() is called; setup() starts the server.
vim.api.nvim_create_autocmd({ 'BufRead', 'BufNewFile' }, {
  pattern = '*.jue',
  command = 'setfiletype jue',
})
