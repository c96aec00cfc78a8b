//! The language server in a real client: headless Neovim (Debian's 0.7.2 in CI)
//! with editors/neovim, running tests/nvim/lsp_test.lua. Skipped when `nvim` is
//! not installed, unless JUE_REQUIRE_NVIM=1.

use std::process::Command;

#[test]
fn headless_neovim_diagnostics_hover_completion_code_action() {
    let have_nvim = Command::new("nvim")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_nvim {
        assert!(
            std::env::var_os("JUE_REQUIRE_NVIM").is_none(),
            "nvim is required (apt-get install -y neovim)"
        );
        eprintln!("skipped: nvim not installed (apt-get install -y neovim)");
        return;
    }
    let repo = env!("CARGO_MANIFEST_DIR");
    let (server, args) = match std::env::var("JUE_LSP_SERVER") {
        Ok(p) => (p, String::new()),
        Err(_) => (env!("CARGO_BIN_EXE_jue").to_string(), "lsp".to_string()),
    };
    let out = Command::new("timeout")
        .args([
            "120",
            "nvim",
            "--headless",
            "-u",
            "NONE",
            "-i",
            "NONE",
            "-n",
            "-c",
        ])
        .arg(format!("luafile {repo}/tests/nvim/lsp_test.lua"))
        .env("JUE_LSP", &server)
        .env("JUE_LSP_ARGS", &args)
        .env("JUE_REPO", repo)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run nvim");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.lines().any(|l| l == "OK"),
        "status {:?}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
}
