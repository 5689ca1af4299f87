//! Options by key (the C constants) and by name (`lupi_option_by_name`).
use std::ffi::{CStr, CString};
use std::fmt;
use std::os::raw::c_int;

use lupi_sys as sys;

use crate::error::{Error, Result};

/// The handles that have options (`LUPI_HANDLE_*`); a key is
/// `handle * 1000 + n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Handle {
    /// [`Model`](crate::Model) options, `LUPI_MODEL_OPT_*`.
    Model,
    /// [`Loss`](crate::Loss) options, `LUPI_LOSS_OPT_*`.
    Loss,
    /// [`Reader`](crate::Reader) options, `LUPI_READER_OPT_*`.
    Reader,
    /// [`Compare`](crate::Compare) options, `LUPI_COMPARE_OPT_*`.
    Compare,
    /// Options of one layer of a model, `LUPI_LAYER_OPT_*`.
    Layer,
    /// [`Dp`](crate::Dp) options, `LUPI_DP_OPT_*` (lupi.h 0.3).
    Dp,
    /// [`Svm`](crate::Svm) options, `LUPI_SVM_OPT_*` (lupi.h 0.3).
    Svm,
}

impl Handle {
    /// The `LUPI_HANDLE_*` value.
    pub fn raw(self) -> c_int {
        match self {
            Handle::Model => sys::LUPI_HANDLE_MODEL,
            Handle::Loss => sys::LUPI_HANDLE_LOSS,
            Handle::Reader => sys::LUPI_HANDLE_READER,
            Handle::Compare => sys::LUPI_HANDLE_COMPARE,
            Handle::Layer => sys::LUPI_HANDLE_LAYER,
            Handle::Dp => sys::LUPI_HANDLE_DP,
            Handle::Svm => sys::LUPI_HANDLE_SVM,
        }
    }

    fn from_raw(h: c_int) -> Option<Self> {
        Handle::ALL.into_iter()
            .find(|x| x.raw() == h)
    }

    /// Every handle this crate knows, in `LUPI_HANDLE_*` order.
    pub const ALL: [Handle; 7] =
        [Handle::Model, Handle::Loss, Handle::Reader, Handle::Compare, Handle::Layer, Handle::Dp, Handle::Svm];

    fn noun(self) -> &'static str {
        match self {
            Handle::Model => "model",
            Handle::Loss => "loss",
            Handle::Reader => "reader",
            Handle::Compare => "comparison",
            Handle::Layer => "layer",
            Handle::Dp => "DP configuration",
            Handle::Svm => "SVM+",
        }
    }
}

/// The type of an option's value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OptionType {
    /// `LUPI_TYPE_INT`: set with `set_int`, an `i64`.
    Int,
    /// `LUPI_TYPE_DOUBLE`: set with `set_double`.
    Double,
    /// A type this binding does not know (from a newer library).
    Other(c_int),
}

/// The description of one option, in the library's static storage
/// (`struct lupi_option`).
#[derive(Clone, Copy)]
pub struct OptionInfo(&'static sys::lupi_option);

fn text(p: *const std::os::raw::c_char) -> Option<&'static str> {
    // SAFETY: the strings of a lupi_option are static, NUL-terminated.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_str().unwrap_or(""))
}

impl OptionInfo {
    fn wrap(p: *const sys::lupi_option) -> Option<Self> {
        // SAFETY: options live in static storage of the library.
        unsafe { p.as_ref() }.map(OptionInfo)
    }

    /// The option with this key (e.g. `LUPI_MODEL_OPT_EPOCHS`).
    pub fn by_key(key: c_int) -> Option<Self> {
        // SAFETY: plain call; returns NULL or static storage.
        Self::wrap(unsafe { sys::lupi_option_by_key(key) })
    }

    /// The option of a handle by name: case is ignored, `-` matches `_`,
    /// and the full macro name works too ("epochs", "weight-decay",
    /// "LUPI_MODEL_OPT_EPOCHS").
    pub fn by_name(handle: Handle, name: &str) -> Option<Self> {
        let c = CString::new(name).ok()?;
        // SAFETY: c is a valid C string for the call.
        Self::wrap(unsafe { sys::lupi_option_by_name(handle.raw(), c.as_ptr()) })
    }

    /// Every option of a handle, in key order.
    pub fn all(handle: Handle) -> impl Iterator<Item = OptionInfo> {
        let mut prev: *const sys::lupi_option = std::ptr::null();
        std::iter::from_fn(move || {
            // SAFETY: prev is NULL or an option the library returned.
            let next = Self::wrap(unsafe { sys::lupi_option_next(handle.raw(), prev) })?;
            prev = next.0;
            Some(next)
        })
    }

    /// The key, e.g. `LUPI_MODEL_OPT_EPOCHS`.
    pub fn key(&self) -> c_int {
        self.0.key
    }
    /// The handle the option belongs to.
    pub fn handle(&self) -> Option<Handle> {
        Handle::from_raw(self.0.handle)
    }
    /// The value type.
    pub fn value_type(&self) -> OptionType {
        match self.0.type_ {
            sys::LUPI_TYPE_INT => OptionType::Int,
            sys::LUPI_TYPE_DOUBLE => OptionType::Double,
            t => OptionType::Other(t),
        }
    }
    /// The key's macro name after `LUPI_<HANDLE>_OPT_`, e.g. "EPOCHS".
    pub fn name(&self) -> &'static str {
        text(self.0.name).unwrap_or("")
    }
    /// One line of documentation.
    pub fn doc(&self) -> &'static str {
        text(self.0.doc).unwrap_or("")
    }
    /// Integer options: the inclusive range.
    pub fn int_range(&self) -> (i64, i64) {
        (self.0.int_min, self.0.int_max)
    }
    /// Integer options: the default.
    pub fn int_default(&self) -> i64 {
        self.0.int_default
    }
    /// Real options: the range and whether each end is excluded.
    pub fn real_range(&self) -> (f64, f64, bool, bool) {
        (self.0.real_min, self.0.real_max, self.0.real_min_open != 0, self.0.real_max_open != 0)
    }
    /// Real options: the default.
    pub fn real_default(&self) -> f64 {
        self.0.real_default
    }
    /// Integer options whose values are named constants 0, 1, ...: the
    /// lower-case names, e.g. `["sgd", "adam", "adamw", "rmsprop"]`.
    pub fn values(&self) -> Option<Vec<&'static str>> {
        text(self.0.values).map(|v| v.split(',').collect())
    }

    /// A value as this option takes it: integers for integer options
    /// (a name from [`values`](Self::values) or a `bool` too), reals
    /// (or integers) for real options.
    pub(crate) fn convert(&self, value: &OptionValue) -> Result<OptionValue> {
        let bad = |what: &str| {
            Err(Error::new(
                sys::LUPI_EINVAL,
                format!("option {} takes {}, not {}", self.name(), what, value),
            ))
        };
        match (self.value_type(), value) {
            (OptionType::Int, OptionValue::Int(v)) => Ok(OptionValue::Int(*v)),
            (OptionType::Int, OptionValue::Name(n)) => {
                let values = self.values().unwrap_or_default();
                let found = values.iter().position(|v| v.eq_ignore_ascii_case(n));
                match (found, n.parse::<i64>()) {
                    (Some(i), _) => Ok(OptionValue::Int(i as i64)),
                    (None, Ok(v)) => Ok(OptionValue::Int(v)),
                    (None, Err(_)) if values.is_empty() => bad("an integer"),
                    (None, Err(_)) => bad(&format!("one of {}", values.join(", "))),
                }
            }
            (OptionType::Int, OptionValue::Double(_)) => bad("an integer"),
            (OptionType::Double, OptionValue::Double(v)) => Ok(OptionValue::Double(*v)),
            (OptionType::Double, OptionValue::Int(v)) => Ok(OptionValue::Double(*v as f64)),
            (OptionType::Double, OptionValue::Name(n)) => match n.parse::<f64>() {
                Ok(v) => Ok(OptionValue::Double(v)),
                Err(_) => bad("a number"),
            },
            (OptionType::Other(t), _) => Err(Error::new(
                sys::LUPI_ENOTSUP,
                format!("option {} has value type {}, unknown to this binding", self.name(), t),
            )),
        }
    }

    /// The option of `handle` called `name`, or `LUPI_EUNKNOWN_OPTION`.
    pub(crate) fn find(handle: Handle, name: &str) -> Result<Self> {
        Self::by_name(handle, name).ok_or_else(|| {
            Error::new(sys::LUPI_EUNKNOWN_OPTION, format!("no {} option is called '{}'", handle.noun(), name))
        })
    }
}

impl fmt::Debug for OptionInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OptionInfo")
            .field("key", &self.key())
            .field("name", &self.name())
            .field("type", &self.value_type())
            .field("doc", &self.doc())
            .finish()
    }
}

/// A value for an option set by name.
#[derive(Clone, Debug, PartialEq)]
pub enum OptionValue {
    /// An integer (`bool` becomes 0 or 1).
    Int(i64),
    /// A real.
    Double(f64),
    /// A named value ("adam", "relu", ...) or a number as text, as a
    /// command line or a configuration file gives it.
    Name(String),
}

impl fmt::Display for OptionValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionValue::Int(v) => write!(f, "{}", v),
            OptionValue::Double(v) => write!(f, "{}", v),
            OptionValue::Name(v) => write!(f, "'{}'", v),
        }
    }
}

impl From<i64> for OptionValue {
    fn from(v: i64) -> Self {
        OptionValue::Int(v)
    }
}
impl From<i32> for OptionValue {
    fn from(v: i32) -> Self {
        OptionValue::Int(v.into())
    }
}
impl From<u32> for OptionValue {
    fn from(v: u32) -> Self {
        OptionValue::Int(v.into())
    }
}
impl From<bool> for OptionValue {
    fn from(v: bool) -> Self {
        OptionValue::Int(v.into())
    }
}
impl From<f64> for OptionValue {
    fn from(v: f64) -> Self {
        OptionValue::Double(v)
    }
}
impl From<&str> for OptionValue {
    fn from(v: &str) -> Self {
        OptionValue::Name(v.to_string())
    }
}
impl From<String> for OptionValue {
    fn from(v: String) -> Self {
        OptionValue::Name(v)
    }
}

/// Typed setters and getters by key and by name for a handle type. The
/// double accessors are optional: readers and comparisons have none.
macro_rules! impl_options {
    ($ty:ident, $handle:expr, $set_int:path, $get_int:path $(, $set_double:path, $get_double:path)?) => {
        impl $ty {
            /// Sets an integer option by key (a `LUPI_*_OPT_*` constant).
            /// Errors: `LUPI_EUNKNOWN_OPTION` (not an integer key of this
            /// handle), `LUPI_ERANGE` naming the allowed range,
            /// `LUPI_ESTATE` (the option is fixed once training started).
            pub fn set_int(&mut self, key: std::os::raw::c_int, value: impl Into<i64>) -> $crate::Result<()> {
                // SAFETY: self.raw is a live handle, used by this thread.
                $crate::error::check(unsafe { $set_int(self.raw, key, value.into()) })
            }
            /// Reads an integer option by key.
            pub fn get_int(&self, key: std::os::raw::c_int) -> $crate::Result<i64> {
                let mut v = 0i64;
                // SAFETY: self.raw is a live handle; v is a valid out-pointer.
                $crate::error::check(unsafe { $get_int(self.raw, key, &mut v) })?;
                Ok(v)
            }
            $(
            /// Sets a real option by key.
            pub fn set_double(&mut self, key: std::os::raw::c_int, value: f64) -> $crate::Result<()> {
                // SAFETY: self.raw is a live handle, used by this thread.
                $crate::error::check(unsafe { $set_double(self.raw, key, value) })
            }
            /// Reads a real option by key.
            pub fn get_double(&self, key: std::os::raw::c_int) -> $crate::Result<f64> {
                let mut v = 0f64;
                // SAFETY: self.raw is a live handle; v is a valid out-pointer.
                $crate::error::check(unsafe { $get_double(self.raw, key, &mut v) })?;
                Ok(v)
            }
            )?
            /// Sets an option by name (`lupi_option_by_name`: "epochs",
            /// "weight-decay", "LUPI_MODEL_OPT_LR"), with the setter of
            /// its type. Named values work for enumerated options
            /// (`"optimizer", "adamw"`). Errors: `LUPI_EUNKNOWN_OPTION`,
            /// `LUPI_EINVAL` (a value of the wrong type), and those of the
            /// typed setters.
            pub fn set(&mut self, name: &str, value: impl Into<$crate::OptionValue>) -> $crate::Result<()> {
                let info = $crate::OptionInfo::find($handle, name)?;
                match info.convert(&value.into())? {
                    $crate::OptionValue::Int(v) => self.set_int(info.key(), v),
                    #[allow(unused_variables)]
                    $crate::OptionValue::Double(v) => {
                        $( let _ = stringify!($set_double); return self.set_double(info.key(), v); )?
                        #[allow(unreachable_code)]
                        Err($crate::Error::new(lupi_sys::LUPI_ENOTSUP, "this handle has no real options"))
                    }
                    $crate::OptionValue::Name(_) => unreachable!(),
                }
            }
            /// Reads an option by name, as `Int` or `Double`.
            pub fn get(&self, name: &str) -> $crate::Result<$crate::OptionValue> {
                let info = $crate::OptionInfo::find($handle, name)?;
                match info.value_type() {
                    $crate::OptionType::Int => self.get_int(info.key()).map($crate::OptionValue::Int),
                    $( $crate::OptionType::Double => { let _ = stringify!($get_double); self.get_double(info.key()).map($crate::OptionValue::Double) } )?
                    _ => Err($crate::Error::new(lupi_sys::LUPI_ENOTSUP, format!("option {} has a type this binding cannot read", info.name()))),
                }
            }
        }
    };
}
pub(crate) use impl_options;
