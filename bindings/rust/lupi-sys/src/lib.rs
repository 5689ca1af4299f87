//! Raw declarations of liblupi's C API, `include/lupi.h` (API 0.2 and the
//! 0.3 additions).
//!
//! Everything here mirrors the header one to one: the `LUPI_*` constants
//! (all `c_int`, so the negative error codes stay signed), the opaque
//! handle types, the two public structs, the callback typedefs and every
//! `LUPI_API` function. Parameters that lupi.h names with a Rust keyword
//! (`fn`, `pub`, `priv`) are raw identifiers (`r#fn`).
//! The documentation of each item is the header's; this crate adds none
//! of its own. Use the `lupi` crate for a safe interface.
//!
//! [`CONSTANTS`], [`FUNCTIONS`], [`STRUCTS`] and [`CALLBACKS`] list what is
//! declared, with signatures as text; the test `tests/header.rs` parses
//! `lupi.h` and checks that the two agree, so a header change that this
//! crate misses fails `cargo test`.
//!
//! Linking: `build.rs` links `-llupi` (dynamic) from the directory in the
//! environment variable `LUPI_LIB_DIR` when it is set (a meson build
//! directory's `lib/`), else from what `pkg-config --libs "liblupi >= 0.2"`
//! reports.
#![allow(non_camel_case_types)]

use std::marker::{PhantomData, PhantomPinned};
pub use std::ffi::c_void;
pub use std::os::raw::{c_char, c_int, c_uint};

macro_rules! constants {
    ($($name:ident = $value:expr;)*) => {
        $(pub const $name: c_int = $value;)*
        /// Every `#define LUPI_*` number of lupi.h, by name.
        pub const CONSTANTS: &[(&str, c_int)] = &[$((stringify!($name), $name)),*];
        /// The constants alone, for `use lupi_sys::consts::*`.
        pub mod consts {
            $(pub use super::$name;)*
        }
    };
}

macro_rules! opaque {
    ($($name:ident),*) => {
        $(
            /// An opaque handle of lupi.h; only ever used behind a pointer.
            #[repr(C)]
            pub struct $name {
                _private: [u8; 0],
                _marker: PhantomData<(*mut u8, PhantomPinned)>,
            }
        )*
    };
}

macro_rules! structs {
    ($($(#[$meta:meta])* pub struct $name:ident { $(pub $field:ident: $ty:ty,)* })*) => {
        $(
            $(#[$meta])*
            #[repr(C)]
            #[derive(Debug, Clone, Copy)]
            pub struct $name { $(pub $field: $ty,)* }
        )*
        /// The public structs: name and (field, type) in declaration order.
        pub const STRUCTS: &[(&str, &[(&str, &str)])] =
            &[$((stringify!($name), &[$((stringify!($field), stringify!($ty))),*])),*];
    };
}

macro_rules! callbacks {
    ($(pub type $name:ident = fn($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {
        $(pub type $name = Option<unsafe extern "C" fn($($arg: $ty),*) -> $ret>;)*
        /// The callback typedefs: name and signature as text.
        pub const CALLBACKS: &[(&str, &str)] =
            &[$((stringify!($name), concat!("(", stringify!($($arg: $ty),*), ") -> ", stringify!($ret)))),*];
    };
}

macro_rules! functions {
    ($(pub fn $name:ident($($arg:ident: $ty:ty),*) $(-> $ret:ty)?;)*) => {
        extern "C" {
            $(pub fn $name($($arg: $ty),*) $(-> $ret)?;)*
        }
        /// Every `LUPI_API` function: name and signature as text.
        pub const FUNCTIONS: &[(&str, &str)] = &[$((
            stringify!($name),
            concat!("(", stringify!($($arg: $ty),*), ")" $(, " -> ", stringify!($ret))?)
        )),*];
        /// The address of every function, as linked (same order as
        /// [`FUNCTIONS`]); a test takes them so that a missing symbol fails
        /// at link time.
        pub fn function_addresses() -> [(&'static str, usize); FUNCTIONS.len()] {
            [$((stringify!($name), $name as usize)),*]
        }
    };
}

constants! {
    LUPI_VERSION_MAJOR = 0;
    LUPI_VERSION_MINOR = 3;
    LUPI_VERSION_PATCH = 0;
    LUPI_VERSION_NUMBER = LUPI_VERSION_MAJOR * 10000 + LUPI_VERSION_MINOR * 100 + LUPI_VERSION_PATCH;
    LUPI_OK = 0;
    LUPI_EINVAL = -1;
    LUPI_ENOMEM = -2;
    LUPI_EIO = -3;
    LUPI_EFORMAT = -4;
    LUPI_EVERSION = -5;
    LUPI_ECHECKSUM = -6;
    LUPI_ERANGE = -7;
    LUPI_EUNKNOWN_OPTION = -8;
    LUPI_ESHAPE = -9;
    LUPI_ENONFINITE = -10;
    LUPI_ESTATE = -11;
    LUPI_ENOTSUP = -12;
    LUPI_EMISMATCH = -13;
    LUPI_ECANCELLED = -14;
    LUPI_HANDLE_MODEL = 1;
    LUPI_HANDLE_LOSS = 2;
    LUPI_HANDLE_READER = 3;
    LUPI_HANDLE_COMPARE = 4;
    LUPI_HANDLE_LAYER = 5;
    LUPI_TYPE_INT = 1;
    LUPI_TYPE_DOUBLE = 2;
    LUPI_TASK_NONE = 0;
    LUPI_TASK_CLASSIFICATION = 1;
    LUPI_TASK_BINARY = 2;
    LUPI_TASK_REGRESSION = 3;
    LUPI_VIEW_REGULAR = 0;
    LUPI_VIEW_PRIVILEGED = 1;
    LUPI_VIEW_BOTH = 2;
    LUPI_SPLIT_RANDOM = 0;
    LUPI_SPLIT_STRATIFIED = 1;
    LUPI_ROLE_REGULAR = 0;
    LUPI_ROLE_PRIVILEGED = 1;
    LUPI_ROLE_TARGET = 2;
    LUPI_ROLE_WEIGHT = 3;
    LUPI_ROLE_IGNORE = 4;
    LUPI_READER_OPT_HEADER = 3001;
    LUPI_READER_OPT_DELIMITER = 3002;
    LUPI_READER_OPT_TASK = 3003;
    LUPI_READER_OPT_CLASSES = 3004;
    LUPI_READER_OPT_ALLOW_NONFINITE = 3005;
    LUPI_READER_OPT_IDX_POOL = 3006;
    LUPI_READER_OPT_IDX_SCALE = 3007;
    LUPI_READER_OPT_MAX_ROWS = 3008;
    LUPI_ACT_IDENTITY = 0;
    LUPI_ACT_RELU = 1;
    LUPI_ACT_TANH = 2;
    LUPI_ACT_SIGMOID = 3;
    LUPI_ACT_GELU = 4;
    LUPI_INIT_HE = 0;
    LUPI_INIT_XAVIER = 1;
    LUPI_INIT_UNIFORM = 2;
    LUPI_OPTIM_SGD = 0;
    LUPI_OPTIM_ADAM = 1;
    LUPI_OPTIM_ADAMW = 2;
    LUPI_OPTIM_RMSPROP = 3;
    LUPI_SCHEDULE_CONSTANT = 0;
    LUPI_SCHEDULE_STEP = 1;
    LUPI_SCHEDULE_COSINE = 2;
    LUPI_MODEL_OPT_ACTIVATION = 1001;
    LUPI_MODEL_OPT_INIT = 1002;
    LUPI_MODEL_OPT_OPTIMIZER = 1003;
    LUPI_MODEL_OPT_SCHEDULE = 1004;
    LUPI_MODEL_OPT_EPOCHS = 1005;
    LUPI_MODEL_OPT_BATCH = 1006;
    LUPI_MODEL_OPT_SEED = 1007;
    LUPI_MODEL_OPT_SHUFFLE = 1008;
    LUPI_MODEL_OPT_PATIENCE = 1009;
    LUPI_MODEL_OPT_VIEW = 1010;
    LUPI_MODEL_OPT_STANDARDIZE = 1011;
    LUPI_MODEL_OPT_NESTEROV = 1012;
    LUPI_MODEL_OPT_STEP_SIZE = 1013;
    LUPI_MODEL_OPT_RESTORE_BEST = 1014;
    LUPI_MODEL_OPT_PROGRESS_STEPS = 1015;
    LUPI_MODEL_OPT_LR = 1101;
    LUPI_MODEL_OPT_MOMENTUM = 1102;
    LUPI_MODEL_OPT_BETA1 = 1103;
    LUPI_MODEL_OPT_BETA2 = 1104;
    LUPI_MODEL_OPT_EPSILON = 1105;
    LUPI_MODEL_OPT_WEIGHT_DECAY = 1106;
    LUPI_MODEL_OPT_DROPOUT = 1107;
    LUPI_MODEL_OPT_CLIP_NORM = 1108;
    LUPI_MODEL_OPT_GAMMA = 1109;
    LUPI_MODEL_OPT_MIN_LR = 1110;
    LUPI_MODEL_OPT_RMS_DECAY = 1111;
    LUPI_LAYER_OPT_ACTIVATION = 5001;
    LUPI_LAYER_OPT_BIAS = 5002;
    LUPI_LAYER_OPT_FROZEN = 5003;
    LUPI_PREDICT_OUTPUT = 0;
    LUPI_PREDICT_LOGITS = 1;
    LUPI_METRIC_ACCURACY = 0;
    LUPI_METRIC_LOGLOSS = 1;
    LUPI_METRIC_MSE = 2;
    LUPI_METRIC_MAE = 3;
    LUPI_LOSS_HARD = 0;
    LUPI_LOSS_KD = 1;
    LUPI_LOSS_LOGITS = 2;
    LUPI_LOSS_SEL = 3;
    LUPI_LOSS_REGRESSION = 4;
    LUPI_DIV_CE = 0;
    LUPI_DIV_KL = 1;
    LUPI_DIV_REVERSE_KL = 2;
    LUPI_DIV_JS = 3;
    LUPI_FILTER_NONE = 0;
    LUPI_FILTER_DROP_WRONG = 1;
    LUPI_FILTER_CONFIDENCE = 2;
    LUPI_FEATURE_NONE = 0;
    LUPI_FEATURE_HINT = 1;
    LUPI_FEATURE_RKD_DIST = 2;
    LUPI_FEATURE_RKD_ANGLE = 3;
    LUPI_FEATURE_PKT = 4;
    LUPI_FEATURE_SP = 5;
    LUPI_FEATURE_CRD = 6;
    LUPI_NORMALIZE_WEIGHTS = 0;
    LUPI_NORMALIZE_COUNT = 1;
    LUPI_LOSS_OPT_DIVERGENCE = 2001;
    LUPI_LOSS_OPT_SCALE_T2 = 2002;
    LUPI_LOSS_OPT_STUDENT_T = 2003;
    LUPI_LOSS_OPT_FILTER = 2004;
    LUPI_LOSS_OPT_FEATURE = 2005;
    LUPI_LOSS_OPT_STUDENT_LAYER = 2006;
    LUPI_LOSS_OPT_TEACHER_LAYER = 2007;
    LUPI_LOSS_OPT_QUEUE = 2008;
    LUPI_LOSS_OPT_EMBED = 2009;
    LUPI_LOSS_OPT_SEED = 2010;
    LUPI_LOSS_OPT_NORMALIZE = 2011;
    LUPI_LOSS_OPT_TEMPERATURE = 2101;
    LUPI_LOSS_OPT_LAMBDA = 2102;
    LUPI_LOSS_OPT_BETA = 2103;
    LUPI_LOSS_OPT_CRD_TEMPERATURE = 2104;
    LUPI_LOSS_OPT_FEATURE_LR = 2105;
    LUPI_LOSS_OPT_NO_TEACHER_WEIGHT = 2106;
    LUPI_OUTPUTS_LOGITS = 0;
    LUPI_OUTPUTS_PROBS = 1;
    LUPI_COMPARE_BASELINE = 0;
    LUPI_COMPARE_TEACHER = 1;
    LUPI_COMPARE_HARD = 2;
    LUPI_COMPARE_DISTILLED = 3;
    LUPI_COMPARE_OPT_REPEATS = 4001;
    LUPI_COMPARE_OPT_SEED = 4002;
    // Added after 0.2 (@since 0.3 in lupi.h).
    LUPI_ACT_TEMPERED_SIGMOID = 5;
    LUPI_MODEL_OPT_TS_SCALE = 1112;
    LUPI_MODEL_OPT_TS_TEMPERATURE = 1113;
    LUPI_MODEL_OPT_TS_OFFSET = 1114;
    LUPI_HANDLE_DP = 6;
    LUPI_DP_OPT_SEED = 6001;
    LUPI_DP_OPT_NOISE = 6101;
    LUPI_DP_OPT_CLIP = 6102;
    LUPI_DP_OPT_SAMPLE_RATE = 6103;
    LUPI_DP_OPT_DELTA = 6104;
    LUPI_DP_OPT_TARGET_EPSILON = 6105;
    LUPI_INIT_LECUN = 3;
    LUPI_PATE_LAPLACE = 0;
    LUPI_PATE_GNMAX = 1;
    LUPI_PATE_CONFIDENT = 2;
    LUPI_UNLEARN_RETRAIN = 0;
    LUPI_UNLEARN_RANDOM_TEACHER = 1;
    LUPI_UNLEARN_BAD_TEACHER = 2;
    LUPI_UNLEARN_SCRUB = 3;
    LUPI_PRIVACY_EVAL_TEST = 0;
    LUPI_PRIVACY_EVAL_MEMBERS = 1;
    LUPI_PRIVACY_EVAL_EPSILON = 2;
    LUPI_PRIVACY_EVAL_DELTA = 3;
    LUPI_PRIVACY_EVAL_AUC = 4;
    LUPI_PRIVACY_EVAL_TPR_0_1 = 5;
    LUPI_PRIVACY_EVAL_TPR_1 = 6;
    LUPI_PRIVACY_EVAL_COLS = 7;
    LUPI_HANDLE_SVM = 7;
    LUPI_SVM_KERNEL_LINEAR = 0;
    LUPI_SVM_KERNEL_RBF = 1;
    LUPI_SVM_OPT_KERNEL = 7001;
    LUPI_SVM_OPT_PRIV_KERNEL = 7002;
    LUPI_SVM_OPT_MAX_ITER = 7003;
    LUPI_SVM_OPT_CACHE_BYTES = 7004;
    LUPI_SVM_OPT_PLAIN = 7005;
    LUPI_SVM_OPT_C = 7101;
    LUPI_SVM_OPT_GAMMA = 7102;
    LUPI_SVM_OPT_WIDTH = 7103;
    LUPI_SVM_OPT_PRIV_WIDTH = 7104;
    LUPI_SVM_OPT_TOLERANCE = 7105;
    LUPI_HANDLE_TRAM = 8;
    LUPI_TRAM_OPT_HIDDEN = 8001;
    LUPI_TRAM_OPT_LAYERS = 8002;
    LUPI_TRAM_OPT_ACTIVATION = 8003;
    LUPI_TRAM_OPT_SEED = 8004;
    LUPI_TRAM_OPT_STANDARDIZE = 8005;
}

opaque!(lupi_dataset, lupi_reader, lupi_model, lupi_loss, lupi_teacher, lupi_compare, lupi_rnd, lupi_dp, lupi_sisa, lupi_svm, lupi_tram);

structs! {
    /// The description of one option (lupi.h), in the library's static
    /// storage. `size` is the library's `sizeof(lupi_option)`.
    pub struct lupi_option {
        pub size: usize,
        pub handle: c_int,
        pub key: c_int,
        pub type_: c_int,
        pub name: *const c_char,
        pub doc: *const c_char,
        pub int_min: i64,
        pub int_max: i64,
        pub int_default: i64,
        pub real_min: f64,
        pub real_max: f64,
        pub real_default: f64,
        pub real_min_open: c_int,
        pub real_max_open: c_int,
        pub values: *const c_char,
    }
    /// Progress of a fit or a comparison, passed to a `lupi_progress_fn`.
    pub struct lupi_progress {
        pub size: usize,
        pub epoch: c_uint,
        pub epochs: c_uint,
        pub step: usize,
        pub steps_per_epoch: usize,
        pub loss: f64,
        pub valid_metric: f64,
        pub epoch_end: c_int,
    }
}

callbacks! {
    pub type lupi_progress_fn = fn(user: *mut c_void, p: *const lupi_progress) -> c_int;
    pub type lupi_compare_data_fn = fn(user: *mut c_void, repeat: c_uint, seed: u64,
        train: *mut *const lupi_dataset, test: *mut *const lupi_dataset) -> c_int;
    pub type lupi_reduce_fn = fn(user: *mut c_void, buf: *mut f32, n: usize) -> c_int;
}

functions! {
    pub fn lupi_version_number() -> c_uint;
    pub fn lupi_version_string() -> *const c_char;
    pub fn lupi_strerror(code: c_int) -> *const c_char;
    pub fn lupi_errname(code: c_int) -> *const c_char;
    pub fn lupi_errmsg() -> *const c_char;
    pub fn lupi_free(p: *mut c_void);
    pub fn lupi_option_by_key(key: c_int) -> *const lupi_option;
    pub fn lupi_option_by_name(handle: c_int, name: *const c_char) -> *const lupi_option;
    pub fn lupi_option_next(handle: c_int, prev: *const lupi_option) -> *const lupi_option;
    pub fn lupi_set_num_threads(n: c_int) -> c_int;
    pub fn lupi_get_num_threads() -> c_int;
    pub fn lupi_blas_info(buf: *mut c_char, size: usize) -> c_int;
    pub fn lupi_dataset_create(n: usize, d: usize, x: *const f32, out: *mut *mut lupi_dataset) -> c_int;
    pub fn lupi_dataset_free(ds: *mut lupi_dataset);
    pub fn lupi_dataset_set_privileged(ds: *mut lupi_dataset, d_priv: usize, x_priv: *const f32, mask: *const u8) -> c_int;
    pub fn lupi_dataset_set_labels(ds: *mut lupi_dataset, k: usize, labels: *const i32) -> c_int;
    pub fn lupi_dataset_set_binary_labels(ds: *mut lupi_dataset, labels: *const i32) -> c_int;
    pub fn lupi_dataset_set_targets(ds: *mut lupi_dataset, m: usize, targets: *const f32) -> c_int;
    pub fn lupi_dataset_set_weights(ds: *mut lupi_dataset, weights: *const f32) -> c_int;
    pub fn lupi_dataset_rows(ds: *const lupi_dataset) -> usize;
    pub fn lupi_dataset_dim(ds: *const lupi_dataset, view: c_int) -> usize;
    pub fn lupi_dataset_task(ds: *const lupi_dataset) -> c_int;
    pub fn lupi_dataset_outputs(ds: *const lupi_dataset) -> usize;
    pub fn lupi_dataset_privileged_count(ds: *const lupi_dataset) -> usize;
    pub fn lupi_dataset_features(ds: *const lupi_dataset, view: c_int) -> *const f32;
    pub fn lupi_dataset_mask(ds: *const lupi_dataset) -> *const u8;
    pub fn lupi_dataset_labels(ds: *const lupi_dataset) -> *const i32;
    pub fn lupi_dataset_targets(ds: *const lupi_dataset) -> *const f32;
    pub fn lupi_dataset_weights(ds: *const lupi_dataset) -> *const f32;
    pub fn lupi_dataset_subset(ds: *const lupi_dataset, idx: *const usize, n: usize, out: *mut *mut lupi_dataset) -> c_int;
    pub fn lupi_dataset_split_indices(ds: *const lupi_dataset, fraction: f64, seed: u64, mode: c_int, idx: *mut usize, n_first: *mut usize) -> c_int;
    pub fn lupi_dataset_split(ds: *const lupi_dataset, fraction: f64, seed: u64, mode: c_int, first: *mut *mut lupi_dataset, second: *mut *mut lupi_dataset) -> c_int;
    pub fn lupi_dataset_shuffle(ds: *mut lupi_dataset, seed: u64) -> c_int;
    pub fn lupi_dataset_fit_standardizer(ds: *const lupi_dataset, view: c_int, mean: *mut f32, std: *mut f32) -> c_int;
    pub fn lupi_dataset_standardize(ds: *mut lupi_dataset, view: c_int, mean: *const f32, std: *const f32) -> c_int;
    pub fn lupi_reader_create(out: *mut *mut lupi_reader) -> c_int;
    pub fn lupi_reader_free(r: *mut lupi_reader);
    pub fn lupi_reader_set_int(r: *mut lupi_reader, key: c_int, value: i64) -> c_int;
    pub fn lupi_reader_get_int(r: *const lupi_reader, key: c_int, value: *mut i64) -> c_int;
    pub fn lupi_reader_set_role(r: *mut lupi_reader, first: usize, last: usize, role: c_int) -> c_int;
    pub fn lupi_reader_set_role_name(r: *mut lupi_reader, name: *const c_char, role: c_int) -> c_int;
    pub fn lupi_dataset_load_csv(path: *const c_char, r: *const lupi_reader, out: *mut *mut lupi_dataset) -> c_int;
    pub fn lupi_dataset_load_libsvm(path: *const c_char, r: *const lupi_reader, out: *mut *mut lupi_dataset) -> c_int;
    pub fn lupi_dataset_load_idx(images_path: *const c_char, labels_path: *const c_char, r: *const lupi_reader, out: *mut *mut lupi_dataset) -> c_int;
    pub fn lupi_model_create(task: c_int, n_in: usize, hidden: *const usize, n_hidden: usize, n_out: usize, out: *mut *mut lupi_model) -> c_int;
    pub fn lupi_model_free(m: *mut lupi_model);
    pub fn lupi_model_clone(m: *const lupi_model, out: *mut *mut lupi_model) -> c_int;
    pub fn lupi_model_set_int(m: *mut lupi_model, key: c_int, value: i64) -> c_int;
    pub fn lupi_model_set_double(m: *mut lupi_model, key: c_int, value: f64) -> c_int;
    pub fn lupi_model_get_int(m: *const lupi_model, key: c_int, value: *mut i64) -> c_int;
    pub fn lupi_model_get_double(m: *const lupi_model, key: c_int, value: *mut f64) -> c_int;
    pub fn lupi_model_set_layer_int(m: *mut lupi_model, layer: usize, key: c_int, value: i64) -> c_int;
    pub fn lupi_model_get_layer_int(m: *const lupi_model, layer: usize, key: c_int, value: *mut i64) -> c_int;
    pub fn lupi_model_init(m: *mut lupi_model) -> c_int;
    pub fn lupi_model_task(m: *const lupi_model) -> c_int;
    pub fn lupi_model_inputs(m: *const lupi_model) -> usize;
    pub fn lupi_model_outputs(m: *const lupi_model) -> usize;
    pub fn lupi_model_layers(m: *const lupi_model) -> usize;
    pub fn lupi_model_layer_size(m: *const lupi_model, i: usize) -> usize;
    pub fn lupi_model_num_params(m: *const lupi_model) -> usize;
    pub fn lupi_model_get_params(m: *const lupi_model, params: *mut f32, n: usize) -> c_int;
    pub fn lupi_model_set_params(m: *mut lupi_model, params: *const f32, n: usize) -> c_int;
    pub fn lupi_model_get_standardizer(m: *const lupi_model, mean: *mut f32, std: *mut f32) -> c_int;
    pub fn lupi_model_set_standardizer(m: *mut lupi_model, mean: *const f32, std: *const f32) -> c_int;
    pub fn lupi_model_step(m: *mut lupi_model, ds: *const lupi_dataset, idx: *const usize, n: usize, loss: *mut f64) -> c_int;
    pub fn lupi_model_gradient(m: *mut lupi_model, ds: *const lupi_dataset, idx: *const usize, n: usize, loss: *mut f64, grad: *mut f32, n_grad: usize) -> c_int;
    pub fn lupi_model_apply_gradient(m: *mut lupi_model, grad: *const f32, n_grad: usize) -> c_int;
    pub fn lupi_model_fit(m: *mut lupi_model, train: *const lupi_dataset, valid: *const lupi_dataset, progress: lupi_progress_fn, user: *mut c_void) -> c_int;
    pub fn lupi_model_predict(m: *const lupi_model, x: *const f32, n: usize, d: usize, what: c_int, out: *mut f32) -> c_int;
    pub fn lupi_model_predict_class(m: *const lupi_model, x: *const f32, n: usize, d: usize, classes: *mut i32) -> c_int;
    pub fn lupi_model_evaluate(m: *const lupi_model, ds: *const lupi_dataset, metric: c_int, value: *mut f64) -> c_int;
    pub fn lupi_model_confusion(m: *const lupi_model, ds: *const lupi_dataset, counts: *mut u64) -> c_int;
    pub fn lupi_model_save(m: *const lupi_model, path: *const c_char) -> c_int;
    pub fn lupi_model_load(path: *const c_char, out: *mut *mut lupi_model) -> c_int;
    pub fn lupi_model_load_memory(data: *const c_void, size: usize, out: *mut *mut lupi_model) -> c_int;
    pub fn lupi_model_save_memory(m: *const lupi_model, data: *mut *mut c_void, size: *mut usize) -> c_int;
    pub fn lupi_loss_create(kind: c_int, out: *mut *mut lupi_loss) -> c_int;
    pub fn lupi_loss_clone(loss: *const lupi_loss, out: *mut *mut lupi_loss) -> c_int;
    pub fn lupi_loss_free(loss: *mut lupi_loss);
    pub fn lupi_loss_kind(loss: *const lupi_loss) -> c_int;
    pub fn lupi_loss_set_int(loss: *mut lupi_loss, key: c_int, value: i64) -> c_int;
    pub fn lupi_loss_set_double(loss: *mut lupi_loss, key: c_int, value: f64) -> c_int;
    pub fn lupi_loss_get_int(loss: *const lupi_loss, key: c_int, value: *mut i64) -> c_int;
    pub fn lupi_loss_get_double(loss: *const lupi_loss, key: c_int, value: *mut f64) -> c_int;
    pub fn lupi_loss_set_columns(loss: *mut lupi_loss, cols: *const usize, n: usize) -> c_int;
    pub fn lupi_loss_eval(loss: *const lupi_loss, n: usize, k: usize, s: *const f32, t: *const f32, labels: *const i32, targets: *const f32, weights: *const f32, has_teacher: *const u8, value: *mut f64, grad: *mut f32) -> c_int;
    pub fn lupi_loss_eval_features(loss: *mut lupi_loss, n: usize, ds: usize, fs: *const f32, dt: usize, ft: *const f32, has_teacher: *const u8, value: *mut f64, grad: *mut f32) -> c_int;
    pub fn lupi_loss_update_features(loss: *mut lupi_loss, n: usize, ds: usize, fs: *const f32, dt: usize, ft: *const f32, has_teacher: *const u8, value: *mut f64, grad: *mut f32) -> c_int;
    pub fn lupi_teacher_create(out: *mut *mut lupi_teacher) -> c_int;
    pub fn lupi_teacher_free(t: *mut lupi_teacher);
    pub fn lupi_teacher_add_model(t: *mut lupi_teacher, m: *const lupi_model, weight: f64) -> c_int;
    pub fn lupi_teacher_add_outputs(t: *mut lupi_teacher, ds: *const lupi_dataset, outputs: *const f32, k: usize, kind: c_int, weight: f64) -> c_int;
    pub fn lupi_teacher_prepare(t: *mut lupi_teacher, ds: *const lupi_dataset) -> c_int;
    pub fn lupi_teacher_outputs(t: *const lupi_teacher, ds: *const lupi_dataset, idx: *const usize, n: usize, out: *mut f32, has_output: *mut u8) -> c_int;
    pub fn lupi_teacher_num_outputs(t: *const lupi_teacher) -> usize;
    pub fn lupi_teacher_create_crossfit(proto: *const lupi_model, ds: *const lupi_dataset, k_folds: c_uint, seed: u64, out: *mut *mut lupi_teacher) -> c_int;
    pub fn lupi_teacher_add_transfer(t: *mut lupi_teacher, regressor: *const lupi_model, xstar_model: *const lupi_model, weight: f64) -> c_int;
    pub fn lupi_transfer_crossfit(regressor_proto: *const lupi_model, ds: *const lupi_dataset, k_folds: c_uint, seed: u64, xhat: *mut f32) -> c_int;
    pub fn lupi_teacher_create_crossfit_transfer(regressor_proto: *const lupi_model, xstar_model: *const lupi_model, ds: *const lupi_dataset, k_folds: c_uint, seed: u64, out: *mut *mut lupi_teacher) -> c_int;
    pub fn lupi_student_step(student: *mut lupi_model, teacher: *const lupi_teacher, loss: *mut lupi_loss, ds: *const lupi_dataset, idx: *const usize, n: usize, value: *mut f64) -> c_int;
    pub fn lupi_student_gradient(student: *mut lupi_model, teacher: *const lupi_teacher, loss: *mut lupi_loss, ds: *const lupi_dataset, idx: *const usize, n: usize, value: *mut f64, grad: *mut f32, n_grad: usize) -> c_int;
    pub fn lupi_student_loss(student: *mut lupi_model, teacher: *const lupi_teacher, loss: *mut lupi_loss, ds: *const lupi_dataset, value: *mut f64) -> c_int;
    pub fn lupi_student_fit(student: *mut lupi_model, teacher: *const lupi_teacher, loss: *mut lupi_loss, train: *const lupi_dataset, valid: *const lupi_dataset, progress: lupi_progress_fn, user: *mut c_void) -> c_int;
    pub fn lupi_compare_create(teacher_proto: *const lupi_model, student_proto: *const lupi_model, out: *mut *mut lupi_compare) -> c_int;
    pub fn lupi_compare_free(c: *mut lupi_compare);
    pub fn lupi_compare_set_loss(c: *mut lupi_compare, loss: *const lupi_loss) -> c_int;
    pub fn lupi_compare_set_grid(c: *mut lupi_compare, lambdas: *const f64, n_lambdas: usize, temps: *const f64, n_temps: usize) -> c_int;
    pub fn lupi_compare_set_int(c: *mut lupi_compare, key: c_int, value: i64) -> c_int;
    pub fn lupi_compare_get_int(c: *const lupi_compare, key: c_int, value: *mut i64) -> c_int;
    pub fn lupi_compare_run(c: *mut lupi_compare, train: *const lupi_dataset, test: *const lupi_dataset, progress: lupi_progress_fn, user: *mut c_void) -> c_int;
    pub fn lupi_compare_run_each(c: *mut lupi_compare, data: lupi_compare_data_fn, data_user: *mut c_void, progress: lupi_progress_fn, user: *mut c_void) -> c_int;
    pub fn lupi_compare_rows(c: *const lupi_compare) -> usize;
    pub fn lupi_compare_repeats(c: *const lupi_compare) -> c_uint;
    pub fn lupi_compare_metric(c: *const lupi_compare) -> c_int;
    pub fn lupi_compare_row(c: *const lupi_compare, row: usize, kind: *mut c_int, lambda: *mut f64, temperature: *mut f64, mean: *mut f64, std: *mut f64, diff_mean: *mut f64, diff_std: *mut f64) -> c_int;
    pub fn lupi_compare_value(c: *const lupi_compare, row: usize, repeat: c_uint, value: *mut f64) -> c_int;
    // Added after 0.2 (@since 0.3 in lupi.h).
    pub fn lupi_dataset_append(ds: *mut lupi_dataset, n: usize, x: *const f32, x_priv: *const f32, mask: *const u8, labels: *const i32, targets: *const f32, weights: *const f32) -> c_int;
    pub fn lupi_dataset_set_capacity(ds: *mut lupi_dataset, capacity: usize) -> c_int;
    pub fn lupi_dataset_capacity(ds: *const lupi_dataset) -> usize;
    pub fn lupi_dataset_evicted(ds: *const lupi_dataset) -> u64;
    pub fn lupi_dataset_sample(ds: *const lupi_dataset, n: usize, state: *mut u64, idx: *mut usize) -> c_int;
    pub fn lupi_dagger_steps(student: *mut lupi_model, teacher: *const lupi_teacher, loss: *mut lupi_loss, ds: *const lupi_dataset, steps: usize, batch: usize, state: *mut u64, mean_loss: *mut f64) -> c_int;
    pub fn lupi_student_novelty(student: *const lupi_model, teacher: *const lupi_teacher, x: *const f32, n: usize, d: usize, scores: *mut f32) -> c_int;
    pub fn lupi_rnd_create(d: usize, gamma: f64, out: *mut *mut lupi_rnd) -> c_int;
    pub fn lupi_rnd_free(r: *mut lupi_rnd);
    pub fn lupi_rnd_observe(r: *mut lupi_rnd, x: *const f32, n: usize, d: usize) -> c_int;
    pub fn lupi_rnd_normalize(r: *const lupi_rnd, x: *const f32, n: usize, d: usize, out: *mut f32) -> c_int;
    pub fn lupi_rnd_rewards(r: *mut lupi_rnd, scores: *const f32, n: usize, out: *mut f32) -> c_int;
    pub fn lupi_rnd_stats(r: *const lupi_rnd, obs_mean: *mut f64, obs_std: *mut f64, reward_std: *mut f64) -> c_int;
    pub fn lupi_dp_create(out: *mut *mut lupi_dp) -> c_int;
    pub fn lupi_dp_free(dp: *mut lupi_dp);
    pub fn lupi_dp_set_int(dp: *mut lupi_dp, key: c_int, value: i64) -> c_int;
    pub fn lupi_dp_get_int(dp: *const lupi_dp, key: c_int, value: *mut i64) -> c_int;
    pub fn lupi_dp_set_double(dp: *mut lupi_dp, key: c_int, value: f64) -> c_int;
    pub fn lupi_dp_get_double(dp: *const lupi_dp, key: c_int, value: *mut f64) -> c_int;
    pub fn lupi_model_fit_dp(m: *mut lupi_model, dp: *const lupi_dp, train: *const lupi_dataset, valid: *const lupi_dataset, progress: lupi_progress_fn, user: *mut c_void) -> c_int;
    pub fn lupi_student_fit_dp(student: *mut lupi_model, teacher: *const lupi_teacher, loss: *const lupi_loss, dp: *const lupi_dp, train: *const lupi_dataset, valid: *const lupi_dataset, progress: lupi_progress_fn, user: *mut c_void) -> c_int;
    pub fn lupi_model_privacy(m: *const lupi_model, epsilon: *mut f64, delta: *mut f64, steps: *mut u64, q: *mut f64, sigma: *mut f64) -> c_int;
    pub fn lupi_model_privacy_pate(m: *const lupi_model, mechanism: *mut c_int, noise: *mut f64, sigma1: *mut f64, threshold: *mut f64, queries: *mut u64, answered: *mut u64) -> c_int;
    pub fn lupi_dp_epsilon(q: f64, sigma: f64, steps: u64, delta: f64, epsilon: *mut f64) -> c_int;
    pub fn lupi_dp_sigma(q: f64, steps: u64, delta: f64, epsilon: f64, sigma: *mut f64) -> c_int;
    pub fn lupi_model_set_reduce(m: *mut lupi_model, r#fn: lupi_reduce_fn, user: *mut c_void) -> c_int;
    pub fn lupi_model_set_share(m: *mut lupi_model, index: c_uint, count: c_uint) -> c_int;
    pub fn lupi_model_set_checkpoint(m: *mut lupi_model, path: *const c_char, every_k_steps: u64) -> c_int;
    pub fn lupi_model_resume(m: *mut lupi_model, path: *const c_char) -> c_int;
    pub fn lupi_teacher_crossfit_fold(proto: *const lupi_model, ds: *const lupi_dataset, k_folds: c_uint, seed: u64, fold: c_uint, out: *mut f32, in_fold: *mut u8) -> c_int;
    pub fn lupi_teacher_add_outputs_masked(t: *mut lupi_teacher, ds: *const lupi_dataset, logits: *const f32, present: *const u8, k: usize, weight: f64) -> c_int;
    pub fn lupi_compare_set_share(c: *mut lupi_compare, index: c_uint, count: c_uint) -> c_int;
    pub fn lupi_compare_set_value(c: *mut lupi_compare, row: usize, repeat: c_uint, value: f64) -> c_int;
    pub fn lupi_pate_teachers(proto: *const lupi_model, r#priv: *const lupi_dataset, k: c_uint, seed: u64, out: *mut *mut lupi_teacher, progress: lupi_progress_fn, user: *mut c_void) -> c_int;
    pub fn lupi_pate_votes(t: *const lupi_teacher, r#pub: *const lupi_dataset, votes: *mut u32) -> c_int;
    pub fn lupi_pate_aggregate(votes: *const u32, n: usize, k: usize, mechanism: c_int, noise: f64, sigma1: f64, threshold: f64, seed: u64, labels: *mut i32, answered: *mut usize) -> c_int;
    pub fn lupi_pate_epsilon(mechanism: c_int, noise: f64, sigma1: f64, queries: u64, answered: u64, delta: f64, epsilon: *mut f64) -> c_int;
    pub fn lupi_pate_epsilon_data_dependent(votes: *const u32, n: usize, k: usize, labels: *const i32, mechanism: c_int, noise: f64, sigma1: f64, threshold: f64, delta: f64, epsilon: *mut f64) -> c_int;
    pub fn lupi_pate_fit_student(student: *mut lupi_model, r#pub: *const lupi_dataset, labels: *const i32, valid: *const lupi_dataset, mechanism: c_int, noise: f64, sigma1: f64, threshold: f64, delta: f64, progress: lupi_progress_fn, user: *mut c_void) -> c_int;
    pub fn lupi_unlearn(m: *const lupi_model, train: *const lupi_dataset, forget: *const usize, n_forget: usize, method: c_int, epochs: c_uint, out: *mut *mut lupi_model, steps: *mut u64, seconds: *mut f64, progress: lupi_progress_fn, user: *mut c_void) -> c_int;
    pub fn lupi_unlearn_class_indices(ds: *const lupi_dataset, cls: i32, idx: *mut usize, n: *mut usize) -> c_int;
    pub fn lupi_sisa_create(proto: *const lupi_model, train: *const lupi_dataset, shards: c_uint, seed: u64, out: *mut *mut lupi_sisa, progress: lupi_progress_fn, user: *mut c_void) -> c_int;
    pub fn lupi_sisa_create_sliced(proto: *const lupi_model, train: *const lupi_dataset, shards: c_uint, slices: c_uint, seed: u64, out: *mut *mut lupi_sisa, progress: lupi_progress_fn, user: *mut c_void) -> c_int;
    pub fn lupi_sisa_free(s: *mut lupi_sisa);
    pub fn lupi_sisa_last_cost(s: *const lupi_sisa, steps: *mut u64, scratch_steps: *mut u64) -> c_int;
    pub fn lupi_sisa_forget(s: *mut lupi_sisa, idx: *const usize, n: usize, steps: *mut u64, seconds: *mut f64, progress: lupi_progress_fn, user: *mut c_void) -> c_int;
    pub fn lupi_sisa_shards(s: *const lupi_sisa) -> c_uint;
    pub fn lupi_sisa_shard_of(s: *const lupi_sisa, i: usize, shard: *mut c_uint) -> c_int;
    pub fn lupi_sisa_slice_of(s: *const lupi_sisa, i: usize, slice: *mut c_uint) -> c_int;
    pub fn lupi_sisa_model(s: *const lupi_sisa, shard: c_uint) -> *const lupi_model;
    pub fn lupi_sisa_predict(s: *const lupi_sisa, x: *const f32, n: usize, d: usize, out: *mut f32) -> c_int;
    pub fn lupi_mia_loss_scores(m: *const lupi_model, ds: *const lupi_dataset, scores: *mut f64) -> c_int;
    pub fn lupi_mia_lira_offline(target: *const lupi_model, proto: *const lupi_model, reference: *const lupi_dataset, shadows: c_uint, seed: u64, queries: *const lupi_dataset, scores: *mut f64, progress: lupi_progress_fn, user: *mut c_void) -> c_int;
    pub fn lupi_mia_roc(in_scores: *const f64, n_in: usize, out_scores: *const f64, n_out: usize, auc: *mut f64, tpr_at_0_1pct: *mut f64, tpr_at_1pct: *mut f64) -> c_int;
    pub fn lupi_privacy_evaluate(models: *mut *const lupi_model, n_models: usize, members: *const lupi_dataset, non_members: *const lupi_dataset, test: *const lupi_dataset, table: *mut f64) -> c_int;
    pub fn lupi_svm_create(out: *mut *mut lupi_svm) -> c_int;
    pub fn lupi_svm_free(svm: *mut lupi_svm);
    pub fn lupi_svm_set_int(svm: *mut lupi_svm, key: c_int, value: i64) -> c_int;
    pub fn lupi_svm_get_int(svm: *const lupi_svm, key: c_int, value: *mut i64) -> c_int;
    pub fn lupi_svm_set_double(svm: *mut lupi_svm, key: c_int, value: f64) -> c_int;
    pub fn lupi_svm_get_double(svm: *const lupi_svm, key: c_int, value: *mut f64) -> c_int;
    pub fn lupi_svm_fit(svm: *mut lupi_svm, train: *const lupi_dataset) -> c_int;
    pub fn lupi_svm_machines(svm: *const lupi_svm) -> usize;
    pub fn lupi_svm_decision(svm: *const lupi_svm, ds: *const lupi_dataset, out: *mut f64) -> c_int;
    pub fn lupi_svm_predict(svm: *const lupi_svm, ds: *const lupi_dataset, classes: *mut i32) -> c_int;
    pub fn lupi_svm_correcting(svm: *const lupi_svm, ds: *const lupi_dataset, out: *mut f64) -> c_int;
    pub fn lupi_svm_info(svm: *const lupi_svm, machine: usize, b: *mut f64, bstar: *mut f64, objective: *mut f64, violation: *mut f64, iterations: *mut u64, support: *mut usize) -> c_int;
    pub fn lupi_svm_save(svm: *const lupi_svm, path: *const c_char) -> c_int;
    pub fn lupi_svm_save_memory(svm: *const lupi_svm, data: *mut *mut c_void, size: *mut usize) -> c_int;
    pub fn lupi_svm_load(path: *const c_char, out: *mut *mut lupi_svm) -> c_int;
    pub fn lupi_svm_load_memory(data: *const c_void, size: usize, out: *mut *mut lupi_svm) -> c_int;
    pub fn lupi_tram_create(out: *mut *mut lupi_tram) -> c_int;
    pub fn lupi_tram_free(t: *mut lupi_tram);
    pub fn lupi_tram_set_int(t: *mut lupi_tram, key: c_int, value: i64) -> c_int;
    pub fn lupi_tram_get_int(t: *const lupi_tram, key: c_int, value: *mut i64) -> c_int;
    pub fn lupi_tram_step(t: *mut lupi_tram, m: *mut lupi_model, ds: *const lupi_dataset, idx: *const usize, n: usize, loss: *mut f64) -> c_int;
    pub fn lupi_tram_fit(t: *mut lupi_tram, m: *mut lupi_model, train: *const lupi_dataset, valid: *const lupi_dataset, progress: lupi_progress_fn, user: *mut c_void) -> c_int;
    pub fn lupi_tram_predict_marginal(t: *const lupi_tram, m: *const lupi_model, x: *const f32, n: usize, d: usize, xs: *const f32, n_s: usize, d_priv: usize, out: *mut f32) -> c_int;
    pub fn lupi_dataset_set_label_mask(ds: *mut lupi_dataset, mask: *const u8) -> c_int;
    pub fn lupi_dataset_label_mask(ds: *const lupi_dataset) -> *const u8;
    pub fn lupi_model_copy_params(dst: *mut lupi_model, src: *const lupi_model) -> c_int;
    pub fn lupi_model_evaluate_columns(m: *const lupi_model, ds: *const lupi_dataset, metric: c_int, cols: *const usize, n_cols: usize, value: *mut f64) -> c_int;
}
