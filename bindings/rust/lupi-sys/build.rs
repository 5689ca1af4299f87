//! Finds liblupi without crates: `LUPI_LIB_DIR` (a directory holding
//! liblupi.so, e.g. a meson build directory's `lib/`) when set, else the
//! `pkg-config` program. Links dynamically.
use std::env;
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=LUPI_LIB_DIR");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_PATH");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_LIBDIR");
    println!("cargo:rerun-if-env-changed=PKG_CONFIG_SYSROOT_DIR");

    // An explicit directory wins over whatever liblupi the system has
    // installed: the build tree's tests must not link an older copy.
    if let Some(dir) = env::var_os("LUPI_LIB_DIR") {
        let dir = std::path::PathBuf::from(dir);
        // Rerun when the library is rebuilt or removed, so that the check
        // below sees it (ld would otherwise fall back to liblupi.a).
        println!("cargo:rerun-if-changed={}", dir.join("liblupi.so").display());
        if !dir.join("liblupi.so").exists() && !dir.join("liblupi.dylib").exists() {
            panic!(
                "LUPI_LIB_DIR={} holds no liblupi.so; point it at the meson \
                 build directory's lib/ (after `ninja -C <builddir>`)",
                dir.display()
            );
        }
        println!("cargo:rustc-link-search=native={}", dir.display());
        println!("cargo:rustc-link-lib=dylib=lupi");
        return;
    }

    let pkg_config = env::var("PKG_CONFIG").unwrap_or_else(|_| "pkg-config".into());
    let out = Command::new(&pkg_config)
        .args(["--libs", "liblupi >= 0.2"])
        .output();
    let out = match out {
        Ok(o) if o.status.success() => o,
        Ok(o) => panic!(
            "`{} --libs \"liblupi >= 0.2\"` failed: {}\n\
             Install liblupi (with its liblupi.pc), add the directory of \
             liblupi.pc to PKG_CONFIG_PATH, or set LUPI_LIB_DIR to the \
             directory that holds liblupi.so.",
            pkg_config,
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => panic!(
            "cannot run `{}` ({}): install pkg-config, or set LUPI_LIB_DIR to \
             the directory that holds liblupi.so",
            pkg_config, e
        ),
    };
    let libs = String::from_utf8(out.stdout).expect("pkg-config printed non-UTF-8");
    let mut linked = false;
    for flag in libs.split_whitespace() {
        if let Some(dir) = flag.strip_prefix("-L") {
            println!("cargo:rustc-link-search=native={}", dir);
        } else if let Some(lib) = flag.strip_prefix("-l") {
            println!("cargo:rustc-link-lib=dylib={}", lib);
            linked |= lib == "lupi";
        }
    }
    if !linked {
        println!("cargo:rustc-link-lib=dylib=lupi");
    }
}
