use std::ffi::CStr;
use std::fmt;
use std::os::raw::{c_char, c_int};

use lupi_sys as sys;

/// A failure reported by liblupi (or by this binding before calling it).
///
/// It carries the negative `LUPI_E*` code, the code's macro name from
/// `lupi_errname()` (for example `"LUPI_ESHAPE"`) and the detail message
/// from `lupi_errmsg()`, read on the thread that made the failing call,
/// right after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    code: c_int,
    message: String,
}

/// `Result<T, lupi::Error>`.
pub type Result<T> = std::result::Result<T, Error>;

unsafe fn static_str(p: *const c_char) -> Option<&'static str> {
    if p.is_null() {
        None
    } else {
        CStr::from_ptr(p).to_str().ok()
    }
}

impl Error {
    /// An error with a code and a message of the binding's own, for
    /// mistakes it catches before calling the library (a slice of the
    /// wrong length, an option name no handle knows).
    pub fn new(code: c_int, message: impl Into<String>) -> Self {
        Error { code, message: message.into() }
    }

    /// The error of the calling thread's last failed call, with `code`.
    pub(crate) fn last(code: c_int) -> Self {
        // SAFETY: lupi_errmsg never returns NULL; the text is copied
        // before any other liblupi call on this thread.
        let message = unsafe { CStr::from_ptr(sys::lupi_errmsg()) }.to_string_lossy().into_owned();
        Error { code, message }
    }

    /// The `LUPI_E*` code, negative.
    pub fn code(&self) -> c_int {
        self.code
    }

    /// The code's constant name, e.g. `"LUPI_EINVAL"`; `"LUPI_E?"` for a
    /// code the loaded library does not know.
    pub fn name(&self) -> &'static str {
        // SAFETY: lupi_errname returns static storage or NULL.
        unsafe { static_str(sys::lupi_errname(self.code)) }.unwrap_or("LUPI_E?")
    }

    /// The detail of the failure (`lupi_errmsg()`), e.g.
    /// "student has 10 outputs, teacher 12"; may be empty.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The static text of the code (`lupi_strerror()`).
    pub fn description(&self) -> &'static str {
        // SAFETY: lupi_strerror returns static storage for any code.
        unsafe { static_str(sys::lupi_strerror(self.code)) }.unwrap_or("unknown error")
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.message.is_empty() {
            write!(f, "{}: {}", self.name(), self.description())
        } else {
            write!(f, "{}: {}", self.name(), self.message)
        }
    }
}

impl std::error::Error for Error {}

/// `Ok(())` for `LUPI_OK`, else the thread's error for `rc`.
pub(crate) fn check(rc: c_int) -> Result<()> {
    if rc == sys::LUPI_OK {
        Ok(())
    } else {
        Err(Error::last(rc))
    }
}

/// A binding-side length check: `LUPI_ESHAPE` naming what is wrong.
pub(crate) fn expect_len(what: &str, got: usize, want: usize) -> Result<()> {
    if got == want {
        Ok(())
    } else {
        Err(Error::new(sys::LUPI_ESHAPE, format!("{} has {} entries, expected {}", what, got, want)))
    }
}

/// `n` rows of `d` columns in a flat slice: the number of rows.
pub(crate) fn rows_of(what: &str, len: usize, d: usize) -> Result<usize> {
    if d == 0 || len % d != 0 {
        return Err(Error::new(
            sys::LUPI_ESHAPE,
            format!("{} has {} entries, not a whole number of rows of {}", what, len, d),
        ));
    }
    Ok(len / d)
}

pub(crate) fn opt_ptr<T>(s: Option<&[T]>) -> *const T {
    s.map_or(std::ptr::null(), |s| s.as_ptr())
}
