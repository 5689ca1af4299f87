/*
 * lupi.h - liblupi, learning using privileged information in C.
 *
 * A host program has training samples with regular features X (available
 * when the model is used) and privileged features X* (available only while
 * training). liblupi trains a teacher on X*, then a student on X that learns
 * from the labels and from the teacher (generalized distillation, Lopez-Paz,
 * Bottou, Schoelkopf & Vapnik 2016; Hinton, Vinyals & Dean 2015).
 *
 * Conventions that hold for every function below:
 * - Fallible functions return LUPI_OK (0) or a negative LUPI_E* code, and
 *   set a message for the calling thread, read with lupi_errmsg().
 * - Constructors take an `out` pointer, set it to the new object on success
 *   and to NULL on failure (when `out` itself is not NULL).
 * - Every *_free() function accepts NULL and returns nothing.
 * - Data passed in is copied, unless the documentation says it is borrowed.
 * - A handle is used by one thread at a time. lupi_model_predict() and the
 *   other functions taking a `const lupi_model *` may be called from several
 *   threads at once on a model that nobody modifies; the same holds for a
 *   `const lupi_dataset *` (several threads may train on one dataset) and
 *   a `const lupi_teacher *` (see Teachers).
 * - Columns and LIBSVM feature indices are numbered from 1, lines from 1,
 *   sample indices and layer indices from 0.
 *
 * The library never aborts, exits or prints because of what a caller passes.
 * MIT licensed; see COPYING.
 */
#ifndef LUPI_H
#define LUPI_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef LUPI_API
#if defined(_WIN32)
#define LUPI_API
#else
#define LUPI_API __attribute__((visibility("default")))
#endif
#endif

/* ------------------------------------------------------------------------ */
/* Version                                                                   */
/* ------------------------------------------------------------------------ */

#define LUPI_VERSION_MAJOR 0
#define LUPI_VERSION_MINOR 3
#define LUPI_VERSION_PATCH 0
/** MAJOR*10000 + MINOR*100 + PATCH, compare with lupi_version_number(). */
#define LUPI_VERSION_NUMBER \
	(LUPI_VERSION_MAJOR * 10000 + LUPI_VERSION_MINOR * 100 + LUPI_VERSION_PATCH)

/** Version of the library actually loaded, as LUPI_VERSION_NUMBER. @since 0.1 */
LUPI_API unsigned lupi_version_number(void);
/** "MAJOR.MINOR.PATCH" of the loaded library; static storage. @since 0.1 */
LUPI_API const char *lupi_version_string(void);

/* ------------------------------------------------------------------------ */
/* Errors. Codes are never renumbered or reused.                              */
/* ------------------------------------------------------------------------ */

#define LUPI_OK 0
#define LUPI_EINVAL (-1)          /* an argument is NULL, zero or malformed */
#define LUPI_ENOMEM (-2)          /* an allocation failed */
#define LUPI_EIO (-3)             /* a file could not be opened, read or written */
#define LUPI_EFORMAT (-4)         /* a file's content is malformed */
#define LUPI_EVERSION (-5)        /* a model file from an unsupported version */
#define LUPI_ECHECKSUM (-6)       /* a model file's checksum does not match */
#define LUPI_ERANGE (-7)          /* an option value is out of its range */
#define LUPI_EUNKNOWN_OPTION (-8) /* an option key this library does not know */
#define LUPI_ESHAPE (-9)          /* dimensions of two arguments disagree */
#define LUPI_ENONFINITE (-10)     /* NaN or infinity in data, loss or gradient */
#define LUPI_ESTATE (-11)         /* the object is not in a state for this call */
#define LUPI_ENOTSUP (-12)        /* valid, but not supported by this build or object */
#define LUPI_EMISMATCH (-13)      /* an object belongs to another dataset */
#define LUPI_ECANCELLED (-14)     /* a progress callback asked to stop */

/**
 * Static English text for any code, including unknown ones ("unknown error").
 * Needs no handle and never fails. @since 0.1
 */
LUPI_API const char *lupi_strerror(int code);

/**
 * The name of a code's macro, e.g. "LUPI_EINVAL" for LUPI_EINVAL, for
 * bindings that map codes to exception names; static storage. NULL for a
 * code this library does not know. @since 0.2
 */
LUPI_API const char *lupi_errname(int code);

/**
 * Detail of the calling thread's last failure, e.g.
 * "data.csv:17:3: 'abc' is not a number". Thread-local storage, valid until
 * the next failing liblupi call in the same thread. Never NULL; "" when no
 * call has failed yet in this thread. @since 0.1
 */
LUPI_API const char *lupi_errmsg(void);

/**
 * Frees a buffer the library allocated and handed over, such as the one of
 * lupi_model_save_memory(); NULL is a no-op. Use it rather than free(): the
 * library and the host may not share an allocator. @since 0.2
 */
LUPI_API void lupi_free(void *p);

/* ------------------------------------------------------------------------ */
/* Options: typed keys, one number range per handle, and introspection        */
/* ------------------------------------------------------------------------ */

/*
 * Every handle with options (model, layer, loss, reader, comparison) has
 * typed setters and getters, lupi_<handle>_set_int(h, key, value) and so on.
 * A key is handle * 1000 + n: keys of different handles never share a
 * number, and a key of another handle, or one set through the setter of
 * the other type, returns LUPI_EUNKNOWN_OPTION. Keys and defaults are
 * frozen. The introspection below describes every option, so bindings and
 * tools need not restate names, ranges or defaults.
 */

/* Handles with options (also key / 1000). */
#define LUPI_HANDLE_MODEL 1
#define LUPI_HANDLE_LOSS 2
#define LUPI_HANDLE_READER 3
#define LUPI_HANDLE_COMPARE 4
#define LUPI_HANDLE_LAYER 5

/* Option value types. */
#define LUPI_TYPE_INT 1    /* set with *_set_int, int64_t */
#define LUPI_TYPE_DOUBLE 2 /* set with *_set_double */

/**
 * The description of one option, in static storage owned by the library.
 * Fields may be appended in later versions, never removed or reordered;
 * `size` is sizeof(lupi_option) of the loaded library.
 */
typedef struct lupi_option {
	size_t size;
	int handle;          /* LUPI_HANDLE_* */
	int key;             /* e.g. LUPI_MODEL_OPT_EPOCHS */
	int type;            /* LUPI_TYPE_* */
	const char *name;    /* the key's macro name after "LUPI_<HANDLE>_OPT_",
	                        e.g. "EPOCHS" */
	const char *doc;     /* one line of documentation */
	/* LUPI_TYPE_INT: inclusive range and default. */
	int64_t int_min, int_max, int_default;
	/* LUPI_TYPE_DOUBLE: range, its open ends, and default. */
	double real_min, real_max, real_default;
	int real_min_open, real_max_open; /* 1: the bound is excluded */
	/* Integer options whose values are named constants 0, 1, ...: their
	   lower-case names separated by commas, e.g. "sgd,adam,adamw,rmsprop";
	   NULL otherwise. */
	const char *values;
} lupi_option;

/** The option with this key, or NULL when no handle has it. @since 0.2 */
LUPI_API const lupi_option *lupi_option_by_key(int key);
/**
 * The option of a handle by name, or NULL. Case is ignored and '-' matches
 * '_', so "epochs", "EPOCHS", "weight-decay" and the full macro name
 * "LUPI_MODEL_OPT_EPOCHS" all work. @since 0.2
 */
LUPI_API const lupi_option *lupi_option_by_name(int handle, const char *name);
/**
 * Iterates over a handle's options in key order: prev NULL gives the first,
 * NULL marks the end (also for an unknown handle). @since 0.2
 */
LUPI_API const lupi_option *lupi_option_next(int handle,
					     const lupi_option *prev);

/* ------------------------------------------------------------------------ */
/* Threads                                                                   */
/* ------------------------------------------------------------------------ */

/**
 * Sets the number of threads the library uses, process-wide: its own
 * workers split large GEMMs and the element-wise passes of training, and
 * the BLAS itself is kept at one thread (liblupi sets OpenBLAS's count to
 * 1 when it first multiplies). 0, and a host that never calls this, mean
 * OPENBLAS_NUM_THREADS, else OMP_NUM_THREADS, else all cores. Idle
 * workers sleep; on Linux a sleeping worker is woken with the waking
 * thread's CPU taken out of its affinity for the moment, and restores the
 * affinity it had as soon as it runs (never a wider one). Results are the
 * same bits for the same count on the same BLAS kernels (lupi_blas_info()).
 * @return LUPI_OK, LUPI_ERANGE when n < 0 or n > 1024. @since 0.1
 */
LUPI_API int lupi_set_num_threads(int n);
/** The thread count currently in effect (>= 1). @since 0.1 */
LUPI_API int lupi_get_num_threads(void);
/**
 * Describes the BLAS the library runs on, into buf as a NUL-terminated
 * string: OpenBLAS's configuration and the core type whose kernels it
 * chose (e.g. "OpenBLAS 0.3.21 DYNAMIC_ARCH NO_AFFINITY Cooperlake
 * MAX_THREADS=64; core Cooperlake"), or "unknown BLAS (not OpenBLAS)".
 * Trained weights are bit-reproducible for one core type only (the
 * kernels round differently): record this with results.
 * @return LUPI_OK; LUPI_EINVAL (buf NULL or size 0); LUPI_ERANGE (buf too
 *         small: the description is cut, still NUL-terminated).
 * @since 0.3
 */
LUPI_API int lupi_blas_info(char *buf, size_t size);

/* ------------------------------------------------------------------------ */
/* Datasets                                                                  */
/* ------------------------------------------------------------------------ */

typedef struct lupi_dataset lupi_dataset;

/* Tasks (frozen values). */
#define LUPI_TASK_NONE 0           /* features only, no targets yet */
#define LUPI_TASK_CLASSIFICATION 1 /* labels in [0, K), softmax cross-entropy */
#define LUPI_TASK_BINARY 2         /* labels in {0, 1}, one sigmoid output */
#define LUPI_TASK_REGRESSION 3     /* m real targets per sample, squared error */

/* Views of a dataset's features (frozen values). */
#define LUPI_VIEW_REGULAR 0    /* X */
#define LUPI_VIEW_PRIVILEGED 1 /* X* */
#define LUPI_VIEW_BOTH 2       /* [X, X*] concatenated */

/**
 * Creates a dataset of n samples with d regular features, copying x
 * (row-major, n*d floats). It has no targets (LUPI_TASK_NONE) and no
 * privileged features until the setters below add them.
 * @return LUPI_OK; LUPI_EINVAL if x or out is NULL or n or d is 0;
 *         LUPI_ENONFINITE if x holds NaN/Inf (message: sample and feature);
 *         LUPI_ENOMEM. @since 0.1
 */
LUPI_API int lupi_dataset_create(size_t n, size_t d, const float *x,
				 lupi_dataset **out);
/** Frees a dataset; NULL is a no-op. @since 0.1 */
LUPI_API void lupi_dataset_free(lupi_dataset *ds);

/**
 * Adds privileged features: x_priv is n*d_priv floats, copied. mask, when not
 * NULL, has n bytes: 0 means sample i has no X* (its row of x_priv is
 * ignored and may hold anything), non-zero means present. NULL means all
 * present. Replaces earlier privileged features.
 * @return LUPI_OK; LUPI_EINVAL (NULL x_priv, d_priv 0); LUPI_ERANGE for
 *         d_priv above 1048576; LUPI_ENONFINITE for NaN/Inf in a present
 *         row; LUPI_ENOMEM. @since 0.1
 */
LUPI_API int lupi_dataset_set_privileged(lupi_dataset *ds, size_t d_priv,
					 const float *x_priv,
					 const uint8_t *mask);
/**
 * Sets class labels (n int32 values in [0, k), k >= 2, copied); the task
 * becomes LUPI_TASK_CLASSIFICATION. @return LUPI_OK; LUPI_EINVAL (NULL ds
 * or labels, k < 2); LUPI_ERANGE naming the first label out of range or k
 * above 1048576; LUPI_ENOMEM. @since 0.2
 */
LUPI_API int lupi_dataset_set_labels(lupi_dataset *ds, size_t k,
				     const int32_t *labels);
/**
 * Sets binary labels (n int32 values, 0 or 1, copied); the task becomes
 * LUPI_TASK_BINARY (one sigmoid output, 2 classes). @return LUPI_OK;
 * LUPI_EINVAL; LUPI_ERANGE naming the first label that is not 0 or 1;
 * LUPI_ENOMEM. @since 0.2
 */
LUPI_API int lupi_dataset_set_binary_labels(lupi_dataset *ds,
					    const int32_t *labels);
/**
 * Sets real targets (n*m floats, copied); task becomes LUPI_TASK_REGRESSION.
 * @return LUPI_OK; LUPI_EINVAL; LUPI_ENONFINITE; LUPI_ENOMEM. @since 0.1
 */
LUPI_API int lupi_dataset_set_targets(lupi_dataset *ds, size_t m,
				      const float *targets);
/**
 * Sets per-sample weights (n finite floats >= 0, copied); NULL removes them.
 * Losses are weighted means: sum(w_i * l_i) / sum(w_i).
 * @return LUPI_OK; LUPI_EINVAL; LUPI_ERANGE for a negative or non-finite
 *         weight; LUPI_ENOMEM. @since 0.1
 */
LUPI_API int lupi_dataset_set_weights(lupi_dataset *ds, const float *weights);

/* Accessors. On a NULL dataset they return 0 / NULL. @since 0.1 */
LUPI_API size_t lupi_dataset_rows(const lupi_dataset *ds);
LUPI_API size_t lupi_dataset_dim(const lupi_dataset *ds, int view);
LUPI_API int lupi_dataset_task(const lupi_dataset *ds);
/** K for classification (2 for binary), m for regression, 0 otherwise.
 * @since 0.1 */
LUPI_API size_t lupi_dataset_outputs(const lupi_dataset *ds);
/** Number of samples whose X* is present. @since 0.1 */
LUPI_API size_t lupi_dataset_privileged_count(const lupi_dataset *ds);
/**
 * Borrowed pointers into the dataset, valid until it is freed or modified:
 * features of a view (REGULAR or PRIVILEGED, n*dim floats, NULL if absent),
 * the mask (n bytes, NULL when all X* are present or X* is absent), labels
 * (n int32), targets (n*m floats), weights (n floats). @since 0.1
 */
LUPI_API const float *lupi_dataset_features(const lupi_dataset *ds, int view);
LUPI_API const uint8_t *lupi_dataset_mask(const lupi_dataset *ds);
LUPI_API const int32_t *lupi_dataset_labels(const lupi_dataset *ds);
LUPI_API const float *lupi_dataset_targets(const lupi_dataset *ds);
LUPI_API const float *lupi_dataset_weights(const lupi_dataset *ds);

/**
 * A new dataset holding samples idx[0..n) of ds, in that order (indices may
 * repeat). @return LUPI_OK; LUPI_EINVAL (NULL, n 0); LUPI_ERANGE for an
 * index >= rows or an n whose n * sizeof(size_t) overflows (checked before
 * idx is read); LUPI_ENOMEM. @since 0.1
 */
LUPI_API int lupi_dataset_subset(const lupi_dataset *ds, const size_t *idx,
				 size_t n, lupi_dataset **out);
/* How lupi_dataset_split() and lupi_dataset_split_indices() deal samples. */
#define LUPI_SPLIT_RANDOM 0     /* one shuffle of all samples */
#define LUPI_SPLIT_STRATIFIED 1 /* each class split in the same proportion
                                   (classification and binary only) */

/**
 * The split of ds as indices: writes a permutation of 0..n-1 into idx (n =
 * rows entries) whose first *n_first entries form the first part, about
 * round(fraction * n) samples, fixed by seed and mode (LUPI_SPLIT_*).
 * @return LUPI_OK; LUPI_EINVAL (NULL argument, unknown mode, STRATIFIED
 *         without labels); LUPI_ERANGE unless 0 < fraction < 1 and both
 *         parts are non-empty; LUPI_ENOMEM. @since 0.2
 */
LUPI_API int lupi_dataset_split_indices(const lupi_dataset *ds,
					double fraction, uint64_t seed,
					int mode, size_t *idx,
					size_t *n_first);
/**
 * Splits ds into two new datasets by lupi_dataset_split_indices(), each in
 * the order of the indices. @return as lupi_dataset_split_indices().
 * @since 0.2
 */
LUPI_API int lupi_dataset_split(const lupi_dataset *ds, double fraction,
				uint64_t seed, int mode, lupi_dataset **first,
				lupi_dataset **second);
/*
 * What changes a dataset's identity: lupi_dataset_shuffle(),
 * lupi_dataset_standardize() and lupi_dataset_set_privileged() change the
 * samples or their features, so they detach the dataset from everything
 * tied to it before: a teacher's prepared cache, external teacher outputs
 * and cross-fitted outputs then return LUPI_EMISMATCH, and the borrowed
 * pointers below become invalid. Setting labels, targets or weights keeps
 * the identity (teacher outputs do not depend on them).
 */

/** Permutes the samples in place, fixed by seed. @return LUPI_OK;
 * LUPI_EINVAL (NULL); LUPI_ENOMEM (the dataset is unchanged). @since 0.1 */
LUPI_API int lupi_dataset_shuffle(lupi_dataset *ds, uint64_t seed);
/**
 * Computes per-feature mean and (population) standard deviation of a view
 * into mean[dim] and std[dim]: X over every sample, X* over the samples
 * whose X* is present; BOTH gives REGULAR's values followed by
 * PRIVILEGED's. A constant feature gets std 1.
 * @return LUPI_OK; LUPI_EINVAL (NULL, unknown view, no X* for a view that
 *         needs it, or no sample with X* present); LUPI_ENOMEM. @since 0.1
 */
LUPI_API int lupi_dataset_fit_standardizer(const lupi_dataset *ds, int view,
					   float *mean, float *std);
/**
 * Replaces each feature v of a view by (v - mean[j]) / std[j], e.g. with
 * statistics fitted on a training set. @return LUPI_OK; LUPI_EINVAL;
 * LUPI_ERANGE for a std that is not finite and > 0. @since 0.1
 */
LUPI_API int lupi_dataset_standardize(lupi_dataset *ds, int view,
				      const float *mean, const float *std);

/* ------------------------------------------------------------------------ */
/* Loading datasets from files                                               */
/* ------------------------------------------------------------------------ */

/** Options for the file loaders; NULL stands for all defaults. */
typedef struct lupi_reader lupi_reader;

/* Column roles (frozen values). */
#define LUPI_ROLE_REGULAR 0    /* a feature of X (default for CSV columns) */
#define LUPI_ROLE_PRIVILEGED 1 /* a feature of X*; empty cells mark X* absent */
#define LUPI_ROLE_TARGET 2     /* the label, or one of the regression targets */
#define LUPI_ROLE_WEIGHT 3     /* the per-sample weight */
#define LUPI_ROLE_IGNORE 4     /* skipped */

/* Integer options of a reader (frozen keys); defaults in brackets. */
#define LUPI_READER_OPT_HEADER 3001     /* CSV first line names columns: 0/1 [1] */
#define LUPI_READER_OPT_DELIMITER 3002  /* CSV field separator, a byte [','] */
#define LUPI_READER_OPT_TASK 3003       /* LUPI_TASK_* of the targets [CLASSIFICATION] */
#define LUPI_READER_OPT_CLASSES 3004    /* K; 0 = max label + 1 [0] */
#define LUPI_READER_OPT_ALLOW_NONFINITE 3005 /* accept nan/inf values: 0/1 [0] */
#define LUPI_READER_OPT_IDX_POOL 3006   /* IDX: X = mean over p x p blocks, X* =
                                           the image; 1 = X is the image, no X* [1] */
#define LUPI_READER_OPT_IDX_SCALE 3007  /* IDX: divide bytes by 255: 0/1 [1] */
#define LUPI_READER_OPT_MAX_ROWS 3008   /* stop after this many samples; 0 = all [0] */

/** @return LUPI_OK; LUPI_EINVAL (out NULL); LUPI_ENOMEM. @since 0.1 */
LUPI_API int lupi_reader_create(lupi_reader **out);
/** Frees a reader; NULL is a no-op. @since 0.1 */
LUPI_API void lupi_reader_free(lupi_reader *r);
/**
 * Sets / reads an integer option (LUPI_READER_OPT_*).
 * @return LUPI_OK; LUPI_EINVAL (NULL r or value); LUPI_EUNKNOWN_OPTION (not
 *         a reader key); LUPI_ERANGE naming the range (set). @since 0.2
 */
LUPI_API int lupi_reader_set_int(lupi_reader *r, int key, int64_t value);
LUPI_API int lupi_reader_get_int(const lupi_reader *r, int key,
				 int64_t *value);
/**
 * Gives columns first..last (1-based, inclusive) a role. For LIBSVM files
 * the numbers are feature indices, and only REGULAR, PRIVILEGED and IGNORE
 * apply. Later calls override earlier ones where they overlap.
 * @return LUPI_OK; LUPI_EINVAL (first 0 or > last, unknown role);
 *         LUPI_ENOMEM. @since 0.1
 */
LUPI_API int lupi_reader_set_role(lupi_reader *r, size_t first, size_t last,
				  int role);
/**
 * Gives the CSV column whose header is `name` a role (needs HEADER 1).
 * Unknown names are reported by the loader. @return LUPI_OK; LUPI_EINVAL
 * (NULL, empty name, unknown role); LUPI_ENOMEM. @since 0.1
 */
LUPI_API int lupi_reader_set_role_name(lupi_reader *r, const char *name,
				       int role);

/**
 * Loads a CSV file (RFC 4180 quoting; gzip'd when the file starts with the
 * gzip magic). Columns without a role are REGULAR, except that when no
 * column is a TARGET the last column is the target. An empty PRIVILEGED cell
 * marks that sample's X* absent (the whole row's X* then). Lines end at LF,
 * CR LF or CR; a UTF-8 byte-order mark at the start is skipped. Errors name
 * file:line:column: a bad number, a ragged row, a label out of range or not
 * an integer, NaN/Inf unless allowed, an unknown column name, an embedded
 * NUL byte.
 * @return LUPI_OK; LUPI_EINVAL; LUPI_EIO; LUPI_EFORMAT; LUPI_ERANGE;
 *         LUPI_ENONFINITE; LUPI_ENOMEM. @since 0.1
 */
LUPI_API int lupi_dataset_load_csv(const char *path, const lupi_reader *r,
				   lupi_dataset **out);
/**
 * Loads LIBSVM/svmlight text ("label idx:value ..." per line, indices
 * increasing from 1, '#' comments), gzip'd or not. Feature indices given the
 * PRIVILEGED role form X* (in index order), the others X; the dimension is
 * the largest index seen. A line with no privileged pair has X* absent when
 * any privileged role is set. Lines end at LF, CR LF or CR; a UTF-8
 * byte-order mark at the start is skipped. Errors name file:line:column for
 * malformed pairs, zero or non-increasing indices, bad labels, an embedded
 * NUL byte. The data is expanded
 * to dense rows: indices are capped at 2^24 and X plus X* at 1 GiB
 * (LUPI_EFORMAT beyond), so a small untrusted file can still cost up to
 * 1 GiB of memory.
 * @return LUPI_OK; LUPI_EINVAL; LUPI_EIO; LUPI_EFORMAT; LUPI_ERANGE (a
 *         label); LUPI_ENONFINITE; LUPI_ENOMEM. @since 0.1
 */
LUPI_API int lupi_dataset_load_libsvm(const char *path, const lupi_reader *r,
				      lupi_dataset **out);
/**
 * Loads an IDX image file and its IDX label file (the MNIST and
 * Fashion-MNIST format; gzip'd or not). Images are flattened row-major;
 * with IDX_POOL p > 1 the regular view is the (rows/p) x (cols/p) image of
 * p x p block means and X* is the full image. labels_path may be NULL.
 * @return LUPI_OK; LUPI_EINVAL (NULL path, IDX_POOL not dividing the image
 *         size); LUPI_EIO; LUPI_EFORMAT (bad magic, type, dimensions, size,
 *         or the two files disagree on the count); LUPI_ERANGE (a label);
 *         LUPI_ENOMEM. @since 0.1
 */
LUPI_API int lupi_dataset_load_idx(const char *images_path,
				   const char *labels_path,
				   const lupi_reader *r, lupi_dataset **out);

/* ------------------------------------------------------------------------ */
/* Models (dense networks)                                                   */
/* ------------------------------------------------------------------------ */

typedef struct lupi_model lupi_model;

/* Activations (frozen ids, also stored in model files). */
#define LUPI_ACT_IDENTITY 0
#define LUPI_ACT_RELU 1
#define LUPI_ACT_TANH 2
#define LUPI_ACT_SIGMOID 3
#define LUPI_ACT_GELU 4 /* tanh approximation */
#define LUPI_ACT_TEMPERED_SIGMOID 5 /* s sigmoid(T x) - o with the model's
                                       TS_* options; tanh is s=2, T=2, o=1
                                       (Papernot et al. 2021); @since 0.3 */

/* Initialisers. */
#define LUPI_INIT_HE 0     /* normal(0, 2/fan_in) - default for relu/gelu */
#define LUPI_INIT_XAVIER 1 /* uniform(+-sqrt(6/(fan_in+fan_out))) */
#define LUPI_INIT_UNIFORM 2 /* weights and biases uniform(+-1/sqrt(fan_in)),
                               the default of PyTorch's nn.Linear */
#define LUPI_INIT_LECUN 3  /* normal(0, 1/fan_in), zero biases (LeCun et
                               al. 1998); @since 0.3 */

/* Optimisers. */
#define LUPI_OPTIM_SGD 0
#define LUPI_OPTIM_ADAM 1
#define LUPI_OPTIM_ADAMW 2
#define LUPI_OPTIM_RMSPROP 3 /* v = a v + (1-a) g^2; w -= lr g / (sqrt(v) + eps),
                                a = RMS_DECAY, eps = EPSILON (Tieleman &
                                Hinton 2012, as PyTorch's RMSprop) */

/* Learning-rate schedules, by epoch. */
#define LUPI_SCHEDULE_CONSTANT 0
#define LUPI_SCHEDULE_STEP 1   /* lr * gamma^(floor(epoch / step_size)) */
#define LUPI_SCHEDULE_COSINE 2 /* min_lr + (lr-min_lr)(1+cos(pi e/E))/2 */

/* Integer options of a model (frozen keys); defaults in brackets. */
#define LUPI_MODEL_OPT_ACTIVATION 1001  /* hidden activation, all layers [RELU] */
#define LUPI_MODEL_OPT_INIT 1002        /* LUPI_INIT_* [HE] */
#define LUPI_MODEL_OPT_OPTIMIZER 1003   /* LUPI_OPTIM_* [ADAM] */
#define LUPI_MODEL_OPT_SCHEDULE 1004    /* LUPI_SCHEDULE_* [CONSTANT] */
#define LUPI_MODEL_OPT_EPOCHS 1005      /* fit: epochs [10], 1..1000000 */
#define LUPI_MODEL_OPT_BATCH 1006       /* fit: batch size [128], 1..1048576 */
#define LUPI_MODEL_OPT_SEED 1007        /* initialisation, shuffling, dropout [0] */
#define LUPI_MODEL_OPT_SHUFFLE 1008     /* fit: shuffle each epoch 0/1 [1] */
#define LUPI_MODEL_OPT_PATIENCE 1009    /* fit: early stop after this many epochs
                                           without improvement, 0 = never [0] */
#define LUPI_MODEL_OPT_VIEW 1010        /* input: LUPI_VIEW_* [REGULAR] */
#define LUPI_MODEL_OPT_STANDARDIZE 1011 /* store and apply input standardisation 0/1 [1] */
#define LUPI_MODEL_OPT_NESTEROV 1012    /* SGD: Nesterov momentum 0/1 [0] */
#define LUPI_MODEL_OPT_STEP_SIZE 1013   /* STEP schedule: epochs per decay [10] */
#define LUPI_MODEL_OPT_RESTORE_BEST 1014 /* fit: keep best validation weights 0/1 [1] */
#define LUPI_MODEL_OPT_PROGRESS_STEPS 1015 /* fit: also call progress every this
                                              many steps, 0 = only at epoch ends [0] */

/* Real options of a model (frozen keys). */
#define LUPI_MODEL_OPT_LR 1101           /* learning rate [1e-3], (0, 1e3] */
#define LUPI_MODEL_OPT_MOMENTUM 1102     /* SGD momentum [0], [0, 1) */
#define LUPI_MODEL_OPT_BETA1 1103        /* Adam [0.9], [0, 1) */
#define LUPI_MODEL_OPT_BETA2 1104        /* Adam [0.999], [0, 1) */
#define LUPI_MODEL_OPT_EPSILON 1105      /* Adam, RMSprop [1e-8], (0, 1] */
#define LUPI_MODEL_OPT_WEIGHT_DECAY 1106 /* L2 (SGD, Adam, RMSprop) or decoupled
                                            (AdamW) [0] */
#define LUPI_MODEL_OPT_DROPOUT 1107      /* dropout on hidden activations [0], [0, 1) */
#define LUPI_MODEL_OPT_CLIP_NORM 1108    /* clip gradient global norm, 0 = off [0] */
#define LUPI_MODEL_OPT_GAMMA 1109        /* STEP schedule factor [0.1], (0, 1] */
#define LUPI_MODEL_OPT_MIN_LR 1110       /* COSINE schedule floor [0], >= 0 */
#define LUPI_MODEL_OPT_RMS_DECAY 1111    /* RMSprop smoothing a [0.99], [0, 1) */
/* The tempered sigmoid's parameters, for every layer with that activation;
 * like ACTIVATION they cannot change after training started. @since 0.3 */
#define LUPI_MODEL_OPT_TS_SCALE 1112       /* s [2], (0, 1000] */
#define LUPI_MODEL_OPT_TS_TEMPERATURE 1113 /* T [2], (0, 1000] */
#define LUPI_MODEL_OPT_TS_OFFSET 1114      /* o [1], [-1000, 1000] */

/* Integer options of one layer (lupi_model_set_layer_int); layers are
 * numbered from 0, the output layer last. */
#define LUPI_LAYER_OPT_ACTIVATION 5001 /* LUPI_ACT_* of a hidden layer [the
                                          model's ACTIVATION]; the output
                                          layer is always IDENTITY */
#define LUPI_LAYER_OPT_BIAS 5002       /* the layer has a bias 0/1 [1]; set
                                          before training, stored in files */
#define LUPI_LAYER_OPT_FROZEN 5003     /* 1: updates leave the layer's
                                          parameters alone and its gradient
                                          is reported as 0 [0] */

/**
 * Creates a network with n_in inputs, n_hidden hidden layers of the given
 * sizes, and n_out outputs, for a task (LUPI_TASK_CLASSIFICATION with
 * n_out = K >= 2, LUPI_TASK_BINARY with n_out = 1, LUPI_TASK_REGRESSION with
 * n_out = m). n_hidden 0 gives softmax, logistic or linear regression.
 * Weights are initialised from LUPI_MODEL_OPT_SEED when training starts, or
 * by lupi_model_init(). hidden is copied.
 * @return LUPI_OK; LUPI_EINVAL; LUPI_ERANGE (a size 0 or > 1048576);
 *         LUPI_ENOMEM. @since 0.1
 */
LUPI_API int lupi_model_create(int task, size_t n_in, const size_t *hidden,
			       size_t n_hidden, size_t n_out,
			       lupi_model **out);
/** Frees a model; NULL is a no-op. @since 0.1 */
LUPI_API void lupi_model_free(lupi_model *m);
/**
 * A deep copy: weights, options, layer options, optimiser state,
 * standardisation. @return LUPI_OK; LUPI_EINVAL; LUPI_ENOMEM. @since 0.1
 */
LUPI_API int lupi_model_clone(const lupi_model *m, lupi_model **out);

/**
 * Typed option setters and getters (LUPI_MODEL_OPT_*). Setting an option
 * that shapes the network or optimiser state (ACTIVATION, INIT, OPTIMIZER,
 * VIEW, STANDARDIZE) after training started returns LUPI_ESTATE.
 * @return LUPI_OK; LUPI_EINVAL (NULL m or value); LUPI_EUNKNOWN_OPTION (not
 *         a model key of that type); LUPI_ERANGE with the allowed range;
 *         LUPI_ESTATE. @since 0.2
 */
LUPI_API int lupi_model_set_int(lupi_model *m, int key, int64_t value);
LUPI_API int lupi_model_set_double(lupi_model *m, int key, double value);
LUPI_API int lupi_model_get_int(const lupi_model *m, int key, int64_t *value);
LUPI_API int lupi_model_get_double(const lupi_model *m, int key, double *value);
/**
 * Options of one layer (LUPI_LAYER_OPT_*), layer 0 first, the output layer
 * last. ACTIVATION applies to hidden layers only (the output layer takes
 * IDENTITY alone, else LUPI_ERANGE) and cannot change after training
 * started; BIAS changes num_params and the parameter layout, so it changes
 * only before the model is initialised (LUPI_ESTATE); FROZEN changes at
 * any time.
 * @return LUPI_OK; LUPI_EINVAL; LUPI_ERANGE (layer >= lupi_model_layers(),
 *         or the value); LUPI_EUNKNOWN_OPTION; LUPI_ESTATE; LUPI_ENOMEM
 *         (BIAS). @since 0.2
 */
LUPI_API int lupi_model_set_layer_int(lupi_model *m, size_t layer, int key,
				      int64_t value);
LUPI_API int lupi_model_get_layer_int(const lupi_model *m, size_t layer,
				      int key, int64_t *value);

/**
 * (Re)initialises weights from LUPI_MODEL_OPT_SEED and clears the optimiser
 * state and standardisation. Training calls it implicitly the first time.
 * @return LUPI_OK; LUPI_EINVAL (NULL). @since 0.1
 */
LUPI_API int lupi_model_init(lupi_model *m);

/* Shape accessors; 0 on NULL. Layers count the output layer. @since 0.1 */
LUPI_API int lupi_model_task(const lupi_model *m);
LUPI_API size_t lupi_model_inputs(const lupi_model *m);
LUPI_API size_t lupi_model_outputs(const lupi_model *m);
LUPI_API size_t lupi_model_layers(const lupi_model *m);
/** Output width of layer i (hidden layers, then the output layer); 0 when i
 * is out of range. @since 0.1 */
LUPI_API size_t lupi_model_layer_size(const lupi_model *m, size_t i);
/** Number of parameters (weights and biases of layers that have one).
 * @since 0.1 */
LUPI_API size_t lupi_model_num_params(const lupi_model *m);
/**
 * Copies all parameters, layer by layer (weights row-major out x in, then
 * the biases of a layer that has them), into or out of a host array of
 * n = num_params floats. Setting them marks the model initialised.
 * @return LUPI_OK; LUPI_EINVAL; LUPI_ESHAPE (n differs from num_params);
 *         LUPI_ENONFINITE (set: a NaN or infinity). @since 0.1
 */
LUPI_API int lupi_model_get_params(const lupi_model *m, float *params,
				   size_t n);
LUPI_API int lupi_model_set_params(lupi_model *m, const float *params,
				   size_t n);
/**
 * Stored input standardisation (LUPI_MODEL_OPT_STANDARDIZE): copies mean
 * and std (inputs floats each) out, or sets them. @return LUPI_OK; LUPI_EINVAL
 * (NULL); LUPI_ESTATE (get: the model has none yet); LUPI_ERANGE (set: a
 * std that is not finite and > 0, or a mean that is not finite).
 * @since 0.1
 */
LUPI_API int lupi_model_get_standardizer(const lupi_model *m, float *mean,
					 float *std);
LUPI_API int lupi_model_set_standardizer(lupi_model *m, const float *mean,
					 const float *std);

/**
 * Progress of lupi_model_fit() and lupi_student_fit(), passed to the
 * callback. The library owns it; read it during the call only. Fields may be
 * appended in later versions, never removed or reordered.
 */
typedef struct lupi_progress {
	size_t size;            /* sizeof(lupi_progress) of the library */
	unsigned epoch;         /* 1-based current epoch */
	unsigned epochs;        /* planned epochs */
	size_t step;            /* steps done in this epoch */
	size_t steps_per_epoch; /* steps in one epoch */
	double loss;            /* mean training loss of this epoch so far */
	double valid_metric;    /* at epoch end with a validation set: accuracy
	                           (classification, binary) or MSE
	                           (regression); NaN otherwise */
	int epoch_end;          /* 1 at the end of an epoch, else 0 */
} lupi_progress;

/**
 * Return non-zero to stop: the call that reported progress stops there and
 * returns LUPI_ECANCELLED (a fit keeps the weights trained so far).
 */
typedef int (*lupi_progress_fn)(void *user, const lupi_progress *p);

/**
 * One optimisation step with the task's label loss on samples idx[0..n) of
 * ds, seen through the model's view. Stores the mean loss (weighted when ds
 * has weights) in *loss when loss is not NULL. After the first step with a
 * given batch size, a step allocates nothing.
 * The first step initialises the model if needed and, with STANDARDIZE,
 * fits the standardisation on all of ds.
 * @return LUPI_OK; LUPI_EINVAL; LUPI_ERANGE (an index, or a batch n above
 *         2^31 samples or whose n * widest layer floats overflow size_t,
 *         checked before idx is read); LUPI_ESHAPE (ds's
 *         view dimension or outputs differ from the model's); LUPI_ESTATE
 *         (ds has no targets of the model's task, or the view is privileged
 *         and a sample of the batch has no X*); LUPI_ENONFINITE (a NaN or
 *         infinity in the loss or a gradient, named in the message, or an
 *         update that would make a weight or optimiser moment non-finite;
 *         the weights and optimiser state are left as they were);
 *         LUPI_ENOMEM (nothing changed either). @since 0.1
 */
LUPI_API int lupi_model_step(lupi_model *m, const lupi_dataset *ds,
			     const size_t *idx, size_t n, double *loss);
/**
 * The gradient of lupi_model_step()'s loss with respect to the parameters,
 * without an update: for host optimisers, all-reduce over processes, or
 * per-sample clipping. Writes n_grad = num_params floats in the layout of
 * lupi_model_get_params() (0 for frozen layers) and the loss into *loss
 * when not NULL. Dropout is applied as in a step and the model's random
 * state advances; weights and optimiser state are unchanged.
 * @return as lupi_model_step(), plus LUPI_ESHAPE (n_grad). @since 0.2
 */
LUPI_API int lupi_model_gradient(lupi_model *m, const lupi_dataset *ds,
				 const size_t *idx, size_t n, double *loss,
				 float *grad, size_t n_grad);
/**
 * One optimiser update with a gradient computed elsewhere (n_grad =
 * num_params floats, layout of lupi_model_get_params()): clipping, weight
 * decay, the schedule and the optimiser state apply as in a step; frozen
 * layers are left alone. The model must be initialised (LUPI_ESTATE).
 * @return LUPI_OK; LUPI_EINVAL; LUPI_ESHAPE; LUPI_ESTATE; LUPI_ENONFINITE
 *         (nothing changed); LUPI_ENOMEM. @since 0.2
 */
LUPI_API int lupi_model_apply_gradient(lupi_model *m, const float *grad,
				       size_t n_grad);
/**
 * Trains for EPOCHS epochs of batches of BATCH samples of train (shuffled
 * each epoch with SHUFFLE), evaluating valid (may be NULL) after each
 * epoch, with early stopping (PATIENCE) and progress callbacks (progress
 * may be NULL). Samples without X* are skipped when the view needs X*.
 * Errors as lupi_model_step(), plus LUPI_ECANCELLED when the callback
 * stopped training (the weights trained so far are kept; with RESTORE_BEST
 * and valid, those of the best epoch evaluated so far, as when training
 * stops for PATIENCE). LUPI_ENONFINITE (a step, or the outputs on valid,
 * not finite) also stops training: the failed step changed nothing, so the
 * weights are those of the last step that succeeded, or with RESTORE_BEST
 * and valid those of the best epoch evaluated so far. @since 0.2
 */
LUPI_API int lupi_model_fit(lupi_model *m, const lupi_dataset *train,
			    const lupi_dataset *valid,
			    lupi_progress_fn progress, void *user);

/* What lupi_model_predict() writes. */
#define LUPI_PREDICT_OUTPUT 0 /* probabilities (classification, binary: P(y=1))
                                 or values (regression) */
#define LUPI_PREDICT_LOGITS 1 /* pre-softmax / pre-sigmoid outputs */

/**
 * Predicts n samples of raw features x (n rows of d floats, row-major; d
 * must equal lupi_model_inputs(); for VIEW_BOTH rows are [X, X*]) into out
 * (n * outputs floats). Applies the stored standardisation. Safe to call
 * concurrently on a model nobody modifies. A sample's outputs are the same
 * bits whether it is predicted alone or in a batch of any size, and
 * whatever lupi_set_num_threads() says (large batches are split over that
 * many threads); they may differ in the last bits from the training
 * forward pass, which uses BLAS. @return LUPI_OK; LUPI_EINVAL
 * (NULL, n 0, unknown `what`); LUPI_ESHAPE (d differs from the inputs);
 * LUPI_ERANGE (n rows of x or out would not fit in memory: n * d or
 * n * outputs floats overflow size_t; x is not read); LUPI_ESTATE (never
 * initialised); LUPI_ENONFINITE naming the sample when an output is not
 * finite (a NaN input, or finite weights whose forward pass overflows; out
 * then holds no meaningful values); LUPI_ENOMEM. @since 0.2
 */
LUPI_API int lupi_model_predict(const lupi_model *m, const float *x, size_t n,
				size_t d, int what, float *out);
/**
 * Most probable class per sample (classification and binary), x as in
 * lupi_model_predict(). @return as lupi_model_predict(), plus LUPI_ENOTSUP
 * for a regression model. @since 0.2
 */
LUPI_API int lupi_model_predict_class(const lupi_model *m, const float *x,
				      size_t n, size_t d, int32_t *classes);

/* Metrics. */
#define LUPI_METRIC_ACCURACY 0 /* classification, binary */
#define LUPI_METRIC_LOGLOSS 1  /* classification, binary: mean -log p(y) */
#define LUPI_METRIC_MSE 2      /* regression: mean over samples and outputs */
#define LUPI_METRIC_MAE 3      /* regression */

/**
 * Evaluates a metric on ds through the model's view (samples without a
 * needed X* are skipped; weights are not used). @return LUPI_OK;
 * LUPI_EINVAL; LUPI_ESHAPE; LUPI_ESTATE; LUPI_ENOTSUP (metric and task do
 * not fit); LUPI_ENONFINITE naming the sample whose output is not finite
 * (*value is left alone); LUPI_ENOMEM. @since 0.1
 */
LUPI_API int lupi_model_evaluate(const lupi_model *m, const lupi_dataset *ds,
				 int metric, double *value);
/**
 * Confusion matrix counts[true * K + predicted] (K*K entries, K = 2 for
 * binary) through the model's view. @return as lupi_model_evaluate().
 * @since 0.1
 */
LUPI_API int lupi_model_confusion(const lupi_model *m, const lupi_dataset *ds,
				  uint64_t *counts);

/**
 * Saves the model (weights, shapes, options, standardisation; not the
 * optimiser state) to path atomically: a temporary file in the same
 * directory is written, fsynced and renamed over path, so a failed save
 * leaves any old file intact. A missing path is created (0644); an existing
 * regular file keeps its permissions. A symbolic link to a regular file is
 * written through: the file it resolves to (realpath) is replaced the same
 * way, with the temporary file next to it, and the link stays a link.
 * Anything else that exists (a device, a FIFO, a directory, a link to one,
 * a dangling link) is refused with LUPI_EIO "<path>: not a regular file"
 * (or the system's reason for a dangling link), and a file the caller may
 * not write, or with no write permission bit at all (so also for root), with
 * LUPI_EIO "<path>: permission denied"; nothing is changed then.
 * @return LUPI_OK; LUPI_EINVAL; LUPI_ESTATE (never initialised); LUPI_EIO
 * with the path and the reason; LUPI_ENOMEM. @since 0.1
 */
LUPI_API int lupi_model_save(const lupi_model *m, const char *path);
/**
 * Loads a model file. The file is checked before anything is allocated:
 * LUPI_EFORMAT (bad magic, header, dimension or size, unknown activation,
 * truncated), LUPI_EVERSION (unknown major version or flag bits),
 * LUPI_ECHECKSUM (CRC32C mismatch), LUPI_EIO, LUPI_ENOMEM.
 * @return LUPI_OK or one of those; LUPI_EINVAL (NULL). @since 0.1
 */
LUPI_API int lupi_model_load(const char *path, lupi_model **out);
/** As lupi_model_load() from a buffer of size bytes (borrowed for the
 * call). @return as lupi_model_load(), without LUPI_EIO. @since 0.1 */
LUPI_API int lupi_model_load_memory(const void *data, size_t size,
				    lupi_model **out);
/**
 * Serialises into a buffer allocated by the library, returned in *data with
 * its size; the caller frees it with lupi_free(). @return LUPI_OK;
 * LUPI_EINVAL; LUPI_ESTATE (never initialised); LUPI_ENOMEM. @since 0.1
 */
LUPI_API int lupi_model_save_memory(const lupi_model *m, void **data,
				    size_t *size);

/* ------------------------------------------------------------------------ */
/* Distillation losses                                                       */
/* ------------------------------------------------------------------------ */

typedef struct lupi_loss lupi_loss;

/* Loss kinds (frozen). s = student logits, t = teacher logits, y = label. */
#define LUPI_LOSS_HARD 0       /* CE(y, p(s)); regression 1/2 |f - y|^2 */
#define LUPI_LOSS_KD 1         /* (1-l) CE(y,p(s)) + l c D(p(t/T), p(s/Ts)) */
#define LUPI_LOSS_LOGITS 2     /* (1-l) CE(y,p(s)) + l 1/2 |s - t|^2 (Ba & Caruana 2014) */
#define LUPI_LOSS_SEL 3        /* (1-l) CE(y,p(s)) + l 1/2 (log p(s)_y - log p(t)_y)^2 */
#define LUPI_LOSS_REGRESSION 4 /* (1-l) 1/2 |f-y|^2 + l 1/2 |f - f_t|^2 */

/* Divergences D for LUPI_LOSS_KD. */
#define LUPI_DIV_CE 0          /* cross-entropy -sum q log p (Hinton) */
#define LUPI_DIV_KL 1          /* KL(q || p): CE minus the teacher entropy */
#define LUPI_DIV_REVERSE_KL 2  /* KL(p || q) */
#define LUPI_DIV_JS 3          /* Jensen-Shannon */

/* Teacher filters: what to do with samples an imperfect teacher gets wrong. */
#define LUPI_FILTER_NONE 0
#define LUPI_FILTER_DROP_WRONG 1  /* teacher term 0 where argmax t != y */
#define LUPI_FILTER_CONFIDENCE 2  /* teacher term times p(t)_y */

/* Feature losses between hidden layers (added with weight beta). */
#define LUPI_FEATURE_NONE 0
#define LUPI_FEATURE_HINT 1      /* FitNets: 1/2 |W f_s + b - f_t|^2, W learned */
#define LUPI_FEATURE_RKD_DIST 2  /* RKD distance (Park et al. 2019) */
#define LUPI_FEATURE_RKD_ANGLE 3 /* RKD angle */
#define LUPI_FEATURE_PKT 4       /* probabilistic knowledge transfer */
#define LUPI_FEATURE_SP 5        /* similarity preserving (Tung & Mori 2019) */
#define LUPI_FEATURE_CRD 6       /* contrastive (Tian et al. 2020), bounded queue */

/* How a batch's per-sample losses are averaged (LUPI_LOSS_OPT_NORMALIZE). */
#define LUPI_NORMALIZE_WEIGHTS 0 /* sum(w_i l_i) / sum(w_i): a weighted mean */
#define LUPI_NORMALIZE_COUNT 1   /* sum(w_i l_i) / n: weights not renormalised
                                    within the batch (importance weights,
                                    DP-SGD) */

/* Integer options of a loss (frozen keys); defaults in brackets. */
#define LUPI_LOSS_OPT_DIVERGENCE 2001    /* LUPI_DIV_* [CE] */
#define LUPI_LOSS_OPT_SCALE_T2 2002      /* c = T^2 (1) or c = 1 (0) [1] */
#define LUPI_LOSS_OPT_STUDENT_T 2003     /* Ts = T (0, Hinton) or Ts = 1 (1,
                                            Lopez-Paz) [0] */
#define LUPI_LOSS_OPT_FILTER 2004        /* LUPI_FILTER_* [NONE] */
#define LUPI_LOSS_OPT_FEATURE 2005       /* LUPI_FEATURE_* [NONE] */
#define LUPI_LOSS_OPT_STUDENT_LAYER 2006 /* hidden layer whose output is f_s
                                            [-1: the last] */
#define LUPI_LOSS_OPT_TEACHER_LAYER 2007 /* hidden layer of the teacher [-1] */
#define LUPI_LOSS_OPT_QUEUE 2008         /* CRD negatives kept [4096], 1..65536 */
#define LUPI_LOSS_OPT_EMBED 2009         /* CRD embedding size [128] */
#define LUPI_LOSS_OPT_SEED 2010          /* hint regressor / CRD init [0] */
#define LUPI_LOSS_OPT_NORMALIZE 2011     /* LUPI_NORMALIZE_* [WEIGHTS] */

/* Real options of a loss (frozen keys). */
#define LUPI_LOSS_OPT_TEMPERATURE 2101   /* T [1], (0, 1000] */
#define LUPI_LOSS_OPT_LAMBDA 2102        /* imitation weight [0.5], [0, 1] */
#define LUPI_LOSS_OPT_BETA 2103          /* feature loss weight [1], >= 0 */
#define LUPI_LOSS_OPT_CRD_TEMPERATURE 2104 /* CRD softmax temperature [0.07] */
#define LUPI_LOSS_OPT_FEATURE_LR 2105    /* hint / CRD head learning rate [1e-3] */
#define LUPI_LOSS_OPT_NO_TEACHER_WEIGHT 2106 /* weight of the label term of a
                                            sample without a teacher output
                                            (X* absent); 0 drops such samples
                                            [1], [0, 1] */

/**
 * A loss of a kind (LUPI_LOSS_*) with default options.
 * @return LUPI_OK; LUPI_EINVAL (unknown kind, NULL out); LUPI_ENOMEM.
 * @since 0.1
 */
LUPI_API int lupi_loss_create(int kind, lupi_loss **out);
/**
 * A copy with the same kind, options and columns, and a copy of the learned
 * state of HINT and CRD (regressor, heads, queue). @return LUPI_OK;
 * LUPI_EINVAL; LUPI_ENOMEM. @since 0.2
 */
LUPI_API int lupi_loss_clone(const lupi_loss *loss, lupi_loss **out);
/** Frees a loss; NULL is a no-op. @since 0.1 */
LUPI_API void lupi_loss_free(lupi_loss *loss);
/** The kind (LUPI_LOSS_*), or LUPI_EINVAL for NULL. @since 0.1 */
LUPI_API int lupi_loss_kind(const lupi_loss *loss);
/**
 * Typed option setters and getters (LUPI_LOSS_OPT_*).
 * @return LUPI_OK; LUPI_EINVAL (NULL); LUPI_EUNKNOWN_OPTION (not a loss key
 *         of that type); LUPI_ERANGE with the allowed range. @since 0.2
 */
LUPI_API int lupi_loss_set_int(lupi_loss *loss, int key, int64_t value);
LUPI_API int lupi_loss_set_double(lupi_loss *loss, int key, double value);
LUPI_API int lupi_loss_get_int(const lupi_loss *loss, int key, int64_t *value);
LUPI_API int lupi_loss_get_double(const lupi_loss *loss, int key,
				  double *value);
/**
 * Restricts the teacher term to output columns cols[0..n) (copied); n 0
 * (cols may then be NULL) restores all columns. For KD the restricted columns are renormalised
 * as their own distribution. For LUPI_LOSS_HARD (since 0.3) the columns
 * restrict the label term instead: a softmax over those columns (the label
 * must be one of them: LUPI_ERANGE naming the sample), or the squared
 * error over them for regression targets; a binary task has no columns
 * (LUPI_EINVAL from lupi_loss_eval). The label term of the other kinds
 * uses every output. @return LUPI_OK; LUPI_EINVAL (NULL loss,
 * cols NULL with n > 0, a repeated column); LUPI_ENOMEM. A column >= k is
 * reported by lupi_loss_eval (LUPI_ESHAPE). @since 0.1
 */
LUPI_API int lupi_loss_set_columns(lupi_loss *loss, const size_t *cols,
				   size_t n);

/**
 * The output loss as a pure function of host arrays, usable with any model.
 * n samples, k outputs: s (student outputs, n*k), t (teacher logits n*k, or
 * regression outputs; may be NULL for LUPI_LOSS_HARD), labels (n int32,
 * classification) or targets (n*k floats, regression) - the other NULL;
 * since 0.3 both may be NULL when the loss reads neither (KD, LOGITS or
 * REGRESSION at LAMBDA 1 without a filter; LUPI_EINVAL otherwise), and a
 * label of -1 means "no label": that sample's label term is 0 and it keeps
 * its teacher term (SEL and the filters need the label: none then), and a
 * sample with neither has f_i = 0;
 * weights (n, or NULL for 1), has_teacher (n bytes, or NULL for all: where 0
 * the teacher term is skipped for that sample and it contributes its label
 * term alone, times NO_TEACHER_WEIGHT instead of 1-l). Writes the mean loss
 * to *value and, when grad is not NULL, d value / d s (n*k floats). With
 * f_i = NO_TEACHER_WEIGHT for a sample without a teacher output and 1
 * otherwise (always 1 for LUPI_LOSS_HARD), the mean is sum w_i f_i l_i /
 * sum w_i f_i for NORMALIZE = WEIGHTS (0 with a zero gradient when that sum
 * is 0) and sum w_i f_i l_i / n for COUNT.
 * @return LUPI_OK; LUPI_EINVAL; LUPI_ERANGE (a label); LUPI_ENONFINITE.
 * @since 0.1
 */
LUPI_API int lupi_loss_eval(const lupi_loss *loss, size_t n, size_t k,
			    const float *s, const float *t,
			    const int32_t *labels, const float *targets,
			    const float *weights, const uint8_t *has_teacher,
			    double *value, float *grad);
/**
 * The feature loss (LUPI_LOSS_OPT_FEATURE) as a function of host arrays:
 * student features fs (n*ds), teacher features ft (n*dt), has_teacher as
 * above. Writes the loss (already times BETA) and, when grad is not NULL,
 * d/d fs. HINT and CRD create their learned parameters on the first call
 * (from LUPI_LOSS_OPT_SEED); otherwise the loss is not changed.
 * @return LUPI_OK; LUPI_EINVAL; LUPI_ESTATE (no feature loss set);
 *         LUPI_ERANGE (RKD, PKT and SP compare every pair of samples: more
 *         than 65536 samples with a teacher in one call); LUPI_ESHAPE
 *         (widths differ from the learned regressor or heads);
 *         LUPI_ENONFINITE; LUPI_ENOMEM. @since 0.2
 */
LUPI_API int lupi_loss_eval_features(lupi_loss *loss, size_t n, size_t ds,
				     const float *fs, size_t dt,
				     const float *ft,
				     const uint8_t *has_teacher,
				     double *value, float *grad);
/**
 * As lupi_loss_eval_features(), then one step (Adam, FEATURE_LR) of the
 * loss's own parameters (HINT regressor, CRD heads and queue); the same as
 * eval for the parameter-free kinds. grad is required. @return as
 * lupi_loss_eval_features(). @since 0.2
 */
LUPI_API int lupi_loss_update_features(lupi_loss *loss, size_t n, size_t ds,
				       const float *fs, size_t dt,
				       const float *ft,
				       const uint8_t *has_teacher,
				       double *value, float *grad);

/* ------------------------------------------------------------------------ */
/* Teachers                                                                  */
/* ------------------------------------------------------------------------ */

/*
 * A teacher combines members: trained models, each seeing a sample through
 * its own view, and external outputs computed anywhere. Members are added,
 * then the teacher is read-only: the functions taking a `const
 * lupi_teacher *` (lupi_teacher_outputs, student steps, fits and losses)
 * keep no scratch in it, so one teacher may serve several students on
 * several threads at once, as long as nobody adds members or prepares it
 * meanwhile.
 */
typedef struct lupi_teacher lupi_teacher;

/* Kinds of external teacher outputs. */
#define LUPI_OUTPUTS_LOGITS 0
#define LUPI_OUTPUTS_PROBS 1

/** An empty teacher; add members below. @return LUPI_OK; LUPI_EINVAL;
 * LUPI_ENOMEM. @since 0.1 */
LUPI_API int lupi_teacher_create(lupi_teacher **out);
/** Frees a teacher; NULL is a no-op. @since 0.1 */
LUPI_API void lupi_teacher_free(lupi_teacher *t);
/**
 * Adds a trained model as a member (copied, so the host may free m), with a
 * positive weight. It sees each sample through its own view. A model that
 * was never trained but has weights (lupi_model_init() or
 * lupi_model_set_params()) is accepted as it is: the fixed random teacher
 * of random network distillation (since 0.3; documented, the behaviour is
 * that of 0.1).
 * @return LUPI_OK; LUPI_EINVAL (NULL, weight not finite and > 0);
 *         LUPI_ESTATE (m has no weights: neither trained nor initialised);
 *         LUPI_ESHAPE (task or outputs differ
 *         from earlier members); LUPI_ENOMEM. @since 0.1
 */
LUPI_API int lupi_teacher_add_model(lupi_teacher *t, const lupi_model *m,
				    double weight);
/**
 * Adds external outputs computed anywhere for the n samples of ds (n*k
 * floats, logits or probabilities, copied and checked: finite, and rows of
 * probabilities non-negative summing to 1 within 1e-3; rows of samples
 * without X* may hold anything and are ignored when ds has a mask). They
 * are tied to ds: using the teacher with another dataset returns
 * LUPI_EMISMATCH. @return LUPI_OK; LUPI_EINVAL (NULL, kind, weight, a row
 * of probabilities with a negative entry or not summing to 1);
 * LUPI_ESHAPE (k differs from earlier members); LUPI_ENONFINITE;
 * LUPI_ENOMEM. @since 0.1
 */
LUPI_API int lupi_teacher_add_outputs(lupi_teacher *t, const lupi_dataset *ds,
				      const float *outputs, size_t k, int kind,
				      double weight);
/**
 * Computes all members' outputs on ds once and caches them; later steps on
 * ds read the cache. A teacher holds one cache, tied to ds (a call with
 * another dataset replaces it). @return LUPI_OK; LUPI_EINVAL; LUPI_ESTATE
 * (no member); LUPI_ESHAPE (a member's view does not fit ds);
 * LUPI_EMISMATCH (external outputs of another dataset); LUPI_ENOMEM.
 * @since 0.1
 */
LUPI_API int lupi_teacher_prepare(lupi_teacher *t, const lupi_dataset *ds);
/**
 * Combined teacher logits for samples idx[0..n) of ds into out (n*k):
 * log of the weight-averaged member probabilities (for regression: the
 * weighted mean of outputs); where a single member sees a sample, its
 * logits pass through unchanged (the same probabilities, exact logits).
 * has_output (n bytes, may be NULL) receives 0 where no member could see
 * the sample (X* absent). @return LUPI_OK; LUPI_EINVAL; LUPI_ESTATE (no
 * member); LUPI_ERANGE (an index, or an n whose n * sizeof(size_t) or
 * n * k floats overflow, checked before idx is read); LUPI_ESHAPE;
 * LUPI_EMISMATCH; LUPI_ENONFINITE (a combined output is +-inf or NaN, e.g.
 * a member whose logits overflow; the message names the sample);
 * LUPI_ENOMEM. @since 0.2
 */
LUPI_API int lupi_teacher_outputs(const lupi_teacher *t,
				  const lupi_dataset *ds, const size_t *idx,
				  size_t n, float *out, uint8_t *has_output);
/** Number of outputs k (0 for an empty or NULL teacher). @since 0.1 */
LUPI_API size_t lupi_teacher_num_outputs(const lupi_teacher *t);
/**
 * Cross-fitted teacher: trains k_folds clones of proto (untrained; its
 * options apply) on ds, each leaving one fold out, and stores each sample's
 * logits from the clone that did not see it, tied to ds. @return LUPI_OK;
 * LUPI_EINVAL; LUPI_ERANGE (k_folds < 2 or more folds than samples the
 * view sees); LUPI_ESHAPE; LUPI_ESTATE (ds has no targets of proto's
 * task); errors of lupi_model_fit(). @since 0.1
 */
LUPI_API int lupi_teacher_create_crossfit(const lupi_model *proto,
					  const lupi_dataset *ds,
					  unsigned k_folds, uint64_t seed,
					  lupi_teacher **out);
/**
 * One fold of lupi_teacher_create_crossfit() with the same k_folds and
 * seed, for processes that share the folds (lupi_mpi_teacher_crossfit):
 * trains the clone of proto that leaves fold `fold` out and writes its
 * logits for the samples of that fold into their rows of out (n * k
 * floats, n = rows of ds, k = outputs of proto) and 1 into their bytes of
 * in_fold (n bytes); other rows and bytes are not touched. Over every
 * fold, out and in_fold then hold what the cross-fitted teacher holds, the
 * same bits, and lupi_teacher_add_outputs_masked(t, ds, out, in_fold, k,
 * 1.0) on an empty teacher gives one equal to it.
 * @return LUPI_OK; LUPI_EINVAL (NULL); LUPI_ERANGE (k_folds as in
 *         lupi_teacher_create_crossfit(), fold >= k_folds); LUPI_ESHAPE;
 *         LUPI_ESTATE; LUPI_ENOMEM; errors of lupi_model_fit().
 * @since 0.3
 */
LUPI_API int lupi_teacher_crossfit_fold(const lupi_model *proto,
					const lupi_dataset *ds,
					unsigned k_folds, uint64_t seed,
					unsigned fold, float *out,
					uint8_t *in_fold);
/**
 * As lupi_teacher_add_outputs() with logits, for the samples i of ds with
 * present[i] non-zero only (n bytes): the others have no output from this
 * member (their rows of logits are not read, and a student gets the label
 * term there, as for a sample without X*). Only present rows must be
 * finite. @return LUPI_OK; LUPI_EINVAL (NULL, k 0, weight not finite and
 * > 0); LUPI_ESHAPE (k differs from the dataset's task or earlier
 * members); LUPI_ERANGE (n * k overflows); LUPI_ENONFINITE; LUPI_ENOMEM.
 * @since 0.3
 */
LUPI_API int lupi_teacher_add_outputs_masked(lupi_teacher *t,
					     const lupi_dataset *ds,
					     const float *logits,
					     const uint8_t *present, size_t k,
					     double weight);

/*
 * Knowledge transfer (Vapnik & Izmailov 2015; doc/families.md): a member
 * made of a regressor X -> X* (a LUPI_TASK_REGRESSION model on the regular
 * view, d* outputs) and an X*-model (a model on LUPI_VIEW_PRIVILEGED with
 * d* inputs). Its logits for a sample are the X*-model's logits at the
 * regressor's prediction X-hat*(x), so it needs X only and sees every
 * sample; it combines with other members and students like a model member.
 */
/**
 * Adds a transfer member: both models are copied (the host may free them).
 * The member's task and outputs are the X*-model's.
 * @return LUPI_OK; LUPI_EINVAL (NULL, weight not finite and > 0, the
 *         regressor's task not regression or its view reading X*, the
 *         X*-model's view not privileged); LUPI_ESTATE (a model neither
 *         trained nor initialised); LUPI_ESHAPE (regressor outputs !=
 *         X*-model inputs, or task or outputs differ from earlier members);
 *         LUPI_ENOMEM. @since 0.3
 */
LUPI_API int lupi_teacher_add_transfer(lupi_teacher *t,
				       const lupi_model *regressor,
				       const lupi_model *xstar_model,
				       double weight);
/**
 * Out-of-fold X-hat* of every sample of ds into xhat (n*d* floats): the
 * samples are dealt to k_folds folds (shuffled with seed); for each fold a
 * clone of regressor_proto (untrained; its options apply) is trained on
 * the samples outside the fold that have X* (their regular rows, X* as
 * targets, in index order) and predicts the fold's samples, X* or not. The
 * second variant of knowledge transfer trains a student on [X, X-hat*].
 * @return LUPI_OK; LUPI_EINVAL (NULL, a regressor that is not regression
 *         or reads X*); LUPI_ERANGE (k_folds < 2 or above n, or a fold
 *         with no sample with X* outside it); LUPI_ESTATE (ds has no X*);
 *         LUPI_ESHAPE (regressor inputs != ds's regular width, outputs !=
 *         d*); LUPI_ENONFINITE; errors of lupi_model_fit(). @since 0.3
 */
LUPI_API int lupi_transfer_crossfit(const lupi_model *regressor_proto,
				    const lupi_dataset *ds, unsigned k_folds,
				    uint64_t seed, float *xhat);
/**
 * Cross-fitted transfer teacher for ds: the X*-model (trained) applied to
 * the out-of-fold X-hat* of lupi_transfer_crossfit() with the same
 * arguments, stored as the outputs of every sample, tied to ds (like
 * lupi_teacher_create_crossfit()). @return as lupi_transfer_crossfit(),
 * and the X*-model's errors of lupi_teacher_add_transfer(). @since 0.3
 */
LUPI_API int lupi_teacher_create_crossfit_transfer(
	const lupi_model *regressor_proto, const lupi_model *xstar_model,
	const lupi_dataset *ds, unsigned k_folds, uint64_t seed,
	lupi_teacher **out);

/* ------------------------------------------------------------------------ */
/* Students                                                                  */
/* ------------------------------------------------------------------------ */

/*
 * A student is a lupi_model (usually on LUPI_VIEW_REGULAR) trained with a
 * loss and a teacher; at prediction time it is an ordinary model, saved and
 * loaded alone. Teacher and loss are passed on every call; the student keeps
 * no reference to them, and its own scratch holds what a step needs, so a
 * step allocates nothing once it has seen its batch size.
 */

/**
 * One step on samples idx[0..n) of ds: student forward, teacher outputs for
 * the same samples (cached if prepared), loss, backward, update. teacher may
 * be NULL (label loss only); loss NULL means LUPI_LOSS_KD with its defaults.
 * Samples without a teacher output get the label term only (weighted by
 * NO_TEACHER_WEIGHT). Errors as lupi_model_step(), plus LUPI_ESHAPE
 * (teacher outputs differ from the student's), LUPI_EMISMATCH,
 * LUPI_ENOTSUP (a feature loss, e.g. LUPI_FEATURE_HINT, with a teacher that
 * is not one model: external outputs or an ensemble). @since 0.2
 */
LUPI_API int lupi_student_step(lupi_model *student,
			       const lupi_teacher *teacher, lupi_loss *loss,
			       const lupi_dataset *ds, const size_t *idx,
			       size_t n, double *value);
/**
 * As lupi_student_step() without the update: the loss into *value and its
 * gradient with respect to the student's parameters into grad (n_grad =
 * num_params floats, layout of lupi_model_get_params(), 0 for frozen
 * layers). The feature loss's own parameters are not updated. Errors as
 * lupi_student_step(), plus LUPI_ESHAPE (n_grad). @since 0.2
 */
LUPI_API int lupi_student_gradient(lupi_model *student,
				   const lupi_teacher *teacher,
				   lupi_loss *loss, const lupi_dataset *ds,
				   const size_t *idx, size_t n, double *value,
				   float *grad, size_t n_grad);
/**
 * The value of a distillation loss over all samples of ds without training:
 * the student in evaluation mode (no dropout), normalised as one batch of
 * every sample the student's view sees; nothing is updated. teacher and
 * loss as in lupi_student_step(). The student must be initialised
 * (LUPI_ESTATE). @return errors as lupi_student_step(). @since 0.2
 */
LUPI_API int lupi_student_loss(lupi_model *student, const lupi_teacher *teacher,
			       lupi_loss *loss, const lupi_dataset *ds,
			       double *value);
/**
 * As lupi_model_fit() with a teacher and a loss. When the teacher is not
 * prepared on train, the fit computes its outputs on train once and keeps
 * them for the call (the teacher is not changed). @return as
 * lupi_model_fit(), plus the errors of lupi_student_step(). @since 0.2
 */
LUPI_API int lupi_student_fit(lupi_model *student, const lupi_teacher *teacher,
			      lupi_loss *loss, const lupi_dataset *train,
			      const lupi_dataset *valid,
			      lupi_progress_fn progress, void *user);

/* ------------------------------------------------------------------------ */
/* Evaluation: teacher vs hard-label student vs distilled students            */
/* ------------------------------------------------------------------------ */

/*
 * The standard LUPI experiment as a handle: create it from two prototypes,
 * set the grid and options, run it on a train/test pair (or on a fresh pair
 * per repetition from a callback), then read the table. For each repetition
 * r (seed = LUPI_COMPARE_OPT_SEED + r, set as LUPI_MODEL_OPT_SEED of every
 * clone) it trains a clone of the teacher prototype on train (on the
 * prototype's view, usually PRIVILEGED), a clone of the student prototype on
 * labels only, and for every (lambda, temperature) of the grid a clone of
 * the student prototype with the same initial weights as the hard-label
 * one, distilled from the teacher with a copy of the loss prototype whose
 * LAMBDA and TEMPERATURE are set; and scores each on test with accuracy
 * (classification, binary) or MSE (regression), and the baseline.
 */
typedef struct lupi_compare lupi_compare;

/* Row kinds of a comparison table (frozen). */
#define LUPI_COMPARE_BASELINE 0  /* majority class, or the training mean */
#define LUPI_COMPARE_TEACHER 1   /* the teacher, on its own view of test */
#define LUPI_COMPARE_HARD 2      /* student trained on labels only */
#define LUPI_COMPARE_DISTILLED 3 /* student distilled with one (lambda, T) */

/* Integer options of a comparison (frozen keys); defaults in brackets. */
#define LUPI_COMPARE_OPT_REPEATS 4001 /* repetitions [5], 1..100000 */
#define LUPI_COMPARE_OPT_SEED 4002    /* seed of repetition 0 [0] */

/**
 * A comparison of clones of teacher_proto and student_proto (copied; both
 * untrained or not, their options apply), with a KD loss prototype and the
 * grid lambda = {0.5}, T = {1}. @return LUPI_OK; LUPI_EINVAL (NULL);
 * LUPI_ESHAPE (task or outputs differ); LUPI_ENOMEM. @since 0.2
 */
LUPI_API int lupi_compare_create(const lupi_model *teacher_proto,
				 const lupi_model *student_proto,
				 lupi_compare **out);
/** Frees a comparison; NULL is a no-op. @since 0.1 */
LUPI_API void lupi_compare_free(lupi_compare *c);
/** The loss prototype: its kind, options and columns are copied (each
 * distilled student starts from a fresh copy, without learned HINT or CRD
 * state). @return LUPI_OK; LUPI_EINVAL; LUPI_ENOMEM. @since 0.2 */
LUPI_API int lupi_compare_set_loss(lupi_compare *c, const lupi_loss *loss);
/**
 * The grid of imitation weights and temperatures (copied; each list
 * non-empty, values in the loss's ranges). @return LUPI_OK; LUPI_EINVAL;
 * LUPI_ERANGE naming the value; LUPI_ENOMEM. @since 0.2
 */
LUPI_API int lupi_compare_set_grid(lupi_compare *c, const double *lambdas,
				   size_t n_lambdas, const double *temps,
				   size_t n_temps);
/** Options (LUPI_COMPARE_OPT_*); errors as lupi_model_set_int(). @since 0.2 */
LUPI_API int lupi_compare_set_int(lupi_compare *c, int key, int64_t value);
LUPI_API int lupi_compare_get_int(const lupi_compare *c, int key,
				  int64_t *value);
/**
 * Makes the next runs of c train only share `index` of `count` of the
 * table's cells, for one comparison run by several processes
 * (lupi_mpi_compare_run). A cell is one trained model, numbered in the
 * order a whole run trains them: cell rep * (rows - 1) + row - 1 for row 1
 * (teacher), 2 (hard student) and 3.. (distilled) of repetition rep;
 * share i holds cells [floor(i C / count), floor((i + 1) C / count)) of
 * the C = repeats * (rows - 1). A share trains the teacher of each
 * repetition it has a distilled cell of (scored only where it owns the
 * teacher's cell), computes the baseline of each repetition it has a cell
 * of (the data callback is only called for those), and leaves every other
 * value NaN; its values are those of a whole run, bit for bit.
 * index 0 of count 1 (the default) is the whole table.
 * @return LUPI_OK; LUPI_EINVAL (c NULL); LUPI_ERANGE (count 0, index >=
 *         count). @since 0.3
 */
LUPI_API int lupi_compare_set_share(lupi_compare *c, unsigned index,
				    unsigned count);

/**
 * Runs the comparison on one train/test pair (borrowed for the call),
 * replacing the table of an earlier run. progress, when not NULL, is called
 * after each trained model with epoch = models done and epochs = models in
 * all; returning non-zero stops the run (LUPI_ECANCELLED, no table).
 * @return LUPI_OK; LUPI_EINVAL; LUPI_ESHAPE and LUPI_ESTATE (a dataset does
 *         not fit the prototypes); LUPI_ECANCELLED; errors of training.
 * @since 0.2
 */
LUPI_API int lupi_compare_run(lupi_compare *c, const lupi_dataset *train,
			      const lupi_dataset *test,
			      lupi_progress_fn progress, void *user);

/**
 * Supplies the data of repetition `repeat` (with its seed): sets *train and
 * *test to datasets the callback keeps alive until its next call or the end
 * of the run, and returns LUPI_OK, or a negative code that stops the run
 * and is returned by it.
 */
typedef int (*lupi_compare_data_fn)(void *user, unsigned repeat,
				    uint64_t seed, const lupi_dataset **train,
				    const lupi_dataset **test);
/**
 * As lupi_compare_run() with a fresh train/test pair per repetition, as
 * papers that redraw the data each repetition do. @return as
 * lupi_compare_run(), or the callback's negative code. @since 0.2
 */
LUPI_API int lupi_compare_run_each(lupi_compare *c, lupi_compare_data_fn data,
				   void *data_user, lupi_progress_fn progress,
				   void *user);

/* The table of the last run; 0 / LUPI_ESTATE before one, and after a run
 * that failed or was cancelled (a run drops the earlier table). */
/** Rows: BASELINE, TEACHER, HARD, then DISTILLED for each lambda (outer) and
 * temperature (inner). @since 0.1 */
LUPI_API size_t lupi_compare_rows(const lupi_compare *c);
/** Repetitions run. @since 0.2 */
LUPI_API unsigned lupi_compare_repeats(const lupi_compare *c);
/**
 * LUPI_METRIC_ACCURACY or LUPI_METRIC_MSE, or LUPI_ESTATE; LUPI_EINVAL for
 * a NULL c. @since 0.1
 */
LUPI_API int lupi_compare_metric(const lupi_compare *c);
/**
 * One row: kind, lambda and temperature (NaN unless DISTILLED), mean and
 * sample standard deviation of the metric over repetitions, and the mean
 * and standard deviation of the paired difference (this row minus HARD,
 * per repetition). Any output pointer may be NULL. @return LUPI_OK;
 * LUPI_EINVAL; LUPI_ESTATE (no table); LUPI_ERANGE (row). @since 0.1
 */
LUPI_API int lupi_compare_row(const lupi_compare *c, size_t row, int *kind,
			      double *lambda, double *temperature,
			      double *mean, double *std, double *diff_mean,
			      double *diff_std);
/** The metric of one row in one repetition. @return LUPI_OK; LUPI_EINVAL;
 * LUPI_ESTATE; LUPI_ERANGE. @since 0.2 */
LUPI_API int lupi_compare_value(const lupi_compare *c, size_t row,
				unsigned repeat, double *value);
/**
 * Replaces the metric of one row in one repetition of the table, e.g. with
 * a value another process computed for its share (lupi_compare_set_share);
 * lupi_compare_row() then reads it. @return LUPI_OK; LUPI_EINVAL;
 * LUPI_ESTATE (no table); LUPI_ERANGE (row, repeat). @since 0.3
 */
LUPI_API int lupi_compare_set_value(lupi_compare *c, size_t row,
				    unsigned repeat, double value);

/* ------------------------------------------------------------------------ */
/* Control: growing datasets, online imitation (DAgger), random network      */
/* distillation                                                              */
/* ------------------------------------------------------------------------ */

/*
 * A dataset that grows while a student trains: a policy acts, an expert
 * (a teacher model, or a scripted expert or planner in the host) labels
 * the states it visited, and they are appended (DAgger, Ross, Gordon &
 * Bagnell 2011). With a capacity the oldest rows are evicted: a replay
 * buffer. Rows stay contiguous, so the borrowed pointers of the accessors
 * above keep their layout (they become invalid at every append).
 *
 * What stays valid:
 * - An append that evicts nothing keeps the dataset's identity and rows
 *   0..n-1 unchanged (same index, same values). A student's stored
 *   standardisation, fitted at its first step, is kept (never refitted).
 *   A teacher cache (lupi_teacher_prepare) covers the rows it was prepared
 *   on and is not read for the grown dataset: steps compute the teacher
 *   outputs from its model members on demand (the same values), until
 *   lupi_teacher_prepare is called again on the grown dataset. External
 *   outputs (lupi_teacher_add_outputs) hold one row per sample of the
 *   dataset they were given for, so after an append a teacher holding them
 *   returns LUPI_EMISMATCH: an external expert supplies its actions as the
 *   appended rows' labels or targets instead.
 * - An eviction (by an append past the capacity, or by a smaller capacity)
 *   shifts every row: it changes the identity, as lupi_dataset_shuffle()
 *   does, so caches and external outputs return LUPI_EMISMATCH or are
 *   recomputed. lupi_dataset_evicted() counts the rows evicted so far: the
 *   row now at index i is the (evicted + i)-th row the dataset ever held
 *   (from 0), so a host can keep its own per-row data aligned.
 * - Setting labels, targets, weights or X* on a grown dataset works as on
 *   any other; a subset or split has no capacity.
 */

/**
 * Appends n rows to ds: x (n*d floats, d = the dataset's X width), x_priv
 * (n*d_priv floats, NULL: the rows have no X*), mask (n bytes, 0 = that
 * row's X* absent; NULL = all present), labels (n int32, for
 * classification and binary datasets, NULL otherwise), targets (n*m
 * floats, for regression, NULL otherwise) and weights (n floats, NULL =
 * 1; a dataset without weights gets weight 1 for its earlier rows). All
 * are copied; everything is checked before anything changes. With a
 * capacity C, the oldest rows are evicted so that at most C remain (of
 * more than C new rows only the last C are kept). Amortised O(1) per row:
 * the room grows geometrically (up to 2C rows with a capacity), so a
 * replay buffer allocates nothing once full. See above for what stays
 * valid. @return LUPI_OK; LUPI_EINVAL (NULL ds or x, n 0, labels or
 * targets not as the task needs); LUPI_ESTATE (x_priv given, but ds has
 * no X*); LUPI_ERANGE (a label out of range, a negative or non-finite
 * weight); LUPI_ENONFINITE (a feature, a present X* or a target, named by
 * row); LUPI_ENOMEM (ds unchanged). @since 0.3
 */
LUPI_API int lupi_dataset_append(lupi_dataset *ds, size_t n, const float *x,
				 const float *x_priv, const uint8_t *mask,
				 const int32_t *labels, const float *targets,
				 const float *weights);
/**
 * Sets the capacity: at most this many rows, the oldest evicted first by
 * appends; 0 (the default) means unbounded. A capacity below the current
 * row count evicts the oldest rows at once (no reallocation). Kept by
 * lupi_dataset_shuffle(). @return LUPI_OK; LUPI_EINVAL (NULL). @since 0.3
 */
LUPI_API int lupi_dataset_set_capacity(lupi_dataset *ds, size_t capacity);
/** The capacity (0: unbounded; 0 for NULL). @since 0.3 */
LUPI_API size_t lupi_dataset_capacity(const lupi_dataset *ds);
/** Rows evicted since the dataset was created, counting appended rows
 * dropped at once beyond the capacity (0 for NULL). @since 0.3 */
LUPI_API uint64_t lupi_dataset_evicted(const lupi_dataset *ds);
/**
 * Draws n row indices uniformly, with replacement, from the current rows
 * into idx (n entries), from the host's random state *state (any value to
 * start; the call advances it, so the same start gives the same batches).
 * @return LUPI_OK; LUPI_EINVAL (NULL, n 0); LUPI_ERANGE (n * sizeof(size_t)
 * overflows, nothing written). @since 0.3
 */
LUPI_API int lupi_dataset_sample(const lupi_dataset *ds, size_t n,
				 uint64_t *state, size_t *idx);

/**
 * DAgger's training half: `steps` calls of lupi_student_step() on batches
 * of `batch` rows drawn with lupi_dataset_sample(ds, batch, state, ...).
 * teacher may be NULL (the rows' labels or targets, e.g. an external
 * expert's actions, are the imitation targets); loss as in
 * lupi_student_step(). Writes the mean step loss into *mean_loss (may be
 * NULL). The rollouts, with probability beta the expert's action executed,
 * stay in the host (examples/control_dagger.c). @return LUPI_OK;
 * LUPI_EINVAL (NULL, steps or batch 0); LUPI_ERANGE (batch above
 * 1048576); errors of lupi_student_step(), which stop the loop (the steps
 * before it are kept). @since 0.3
 */
LUPI_API int lupi_dagger_steps(lupi_model *student,
			       const lupi_teacher *teacher, lupi_loss *loss,
			       const lupi_dataset *ds, size_t steps,
			       size_t batch, uint64_t *state,
			       double *mean_loss);

/*
 * Random network distillation (Burda, Edwards, Storkey & Klimov 2019): the
 * teacher is a model initialised with lupi_model_init() and never trained
 * (lupi_teacher_add_model accepts it), the student a regression model with
 * as many outputs, trained with LUPI_LOSS_REGRESSION and LAMBDA 1 to
 * predict the teacher on visited states; its error on a state is the
 * state's novelty. Observations are normalised with running statistics
 * before both networks see them (set LUPI_MODEL_OPT_STANDARDIZE 0 on
 * both), and rewards are divided by a running standard deviation of
 * their discounted sum, as in the paper.
 */

/**
 * Novelty of n host rows x (n*d floats, d = the student's inputs):
 * scores[i] = mean over the k outputs of (student(x_i) - teacher(x_i))^2,
 * with the teacher's members combined as in lupi_teacher_outputs(). The
 * student is only read. @return LUPI_OK; LUPI_EINVAL (NULL, n 0);
 * LUPI_ENOTSUP (the student is not a regression model, or no teacher
 * member sees the rows: members must use LUPI_VIEW_REGULAR); LUPI_ESTATE
 * (student not initialised, teacher without members); LUPI_ESHAPE (d, or
 * the teacher's outputs); LUPI_EMISMATCH (external teacher outputs);
 * LUPI_ENONFINITE; LUPI_ENOMEM. @since 0.3
 */
LUPI_API int lupi_student_novelty(const lupi_model *student,
				  const lupi_teacher *teacher,
				  const float *x, size_t n, size_t d,
				  float *scores);

/** Running normalisation of RND's observations and rewards. */
typedef struct lupi_rnd lupi_rnd;

/**
 * A normaliser for observations of d features and rewards discounted by
 * gamma. Its running statistics start as the paper's code starts them
 * (count 1e-4, mean 0, variance 1) and merge each batch exactly (Chan,
 * Golub & LeVeque), so after batches of N values in all the mean is
 * sum / (N + 1e-4) and the variance (1e-4 (1 + mean^2) + sum of
 * (v - mean)^2) / (N + 1e-4). @return LUPI_OK; LUPI_EINVAL (out NULL);
 * LUPI_ERANGE (d 0 or above 1048576, gamma not in [0, 1)); LUPI_ENOMEM.
 * @since 0.3
 */
LUPI_API int lupi_rnd_create(size_t d, double gamma, lupi_rnd **out);
/** Frees a normaliser; NULL is a no-op. @since 0.3 */
LUPI_API void lupi_rnd_free(lupi_rnd *r);
/**
 * Adds n observations (n*d floats) to the running mean and variance of
 * each feature. @return LUPI_OK; LUPI_EINVAL (NULL, n 0); LUPI_ESHAPE (d
 * differs); LUPI_ERANGE (n * d floats overflow size_t); LUPI_ENONFINITE;
 * LUPI_ENOMEM. @since 0.3
 */
LUPI_API int lupi_rnd_observe(lupi_rnd *r, const float *x, size_t n,
			      size_t d);
/**
 * out = clip((x - mean) / std, -5, 5) per feature with the running
 * statistics (out may be x). @return LUPI_OK; LUPI_EINVAL (NULL, n 0);
 * LUPI_ESHAPE (d differs); LUPI_ERANGE (n * d floats overflow size_t);
 * LUPI_ENONFINITE. @since 0.3
 */
LUPI_API int lupi_rnd_normalize(const lupi_rnd *r, const float *x, size_t n,
				size_t d, float *out);
/**
 * Normalised intrinsic rewards of n consecutive steps of one stream (e.g.
 * the novelty scores of a rollout): the scores pass through the discounted
 * return R = gamma R + score (continuing across calls), the running
 * variance of R is updated with this call's n returns, and out[i] =
 * scores[i] / sqrt(variance) after the update (out may be scores).
 * @return LUPI_OK; LUPI_EINVAL (NULL, n 0); LUPI_ERANGE (n floats overflow
 * size_t); LUPI_ENONFINITE. @since 0.3
 */
LUPI_API int lupi_rnd_rewards(lupi_rnd *r, const float *scores, size_t n,
			      float *out);
/**
 * The running statistics: observation mean and std (d values each) and
 * the std of the discounted returns; any output may be NULL.
 * @return LUPI_OK; LUPI_EINVAL (NULL r). @since 0.3
 */
LUPI_API int lupi_rnd_stats(const lupi_rnd *r, double *obs_mean,
			    double *obs_std, double *reward_std);

/* ------------------------------------------------------------------------ */
/* Differential privacy: DP-SGD and its accountant                            */
/* ------------------------------------------------------------------------ */

/*
 * Private training by DP-SGD (Abadi et al. 2016): each step samples every
 * training sample independently with probability q (Poisson sampling),
 * clips each sampled sample's gradient to L2 norm CLIP, adds Gaussian
 * noise of standard deviation NOISE * CLIP to the sum and divides it by the
 * expected batch size q * n. The privacy spent, an (epsilon, delta)
 * guarantee under add/remove-one-sample adjacency computed by an RDP
 * accountant of exactly that mechanism, is stored in the model and saved
 * in its file. What is and is not protected: doc/privacy.md.
 */
typedef struct lupi_dp lupi_dp;

/* The handle number of DP configurations (key / 1000). @since 0.3 */
#define LUPI_HANDLE_DP 6

/* Integer options of a DP configuration (frozen keys); defaults in
 * brackets. @since 0.3 */
#define LUPI_DP_OPT_SEED 6001 /* noise and sampling seed; 0 = 256 bits from
                                 the operating system (getrandom) [0]. Any
                                 other value makes the noise reproducible
                                 and predictable: for tests only */

/* Real options of a DP configuration (frozen keys). @since 0.3 */
#define LUPI_DP_OPT_NOISE 6101       /* noise multiplier sigma [1], (0, 1e4] */
#define LUPI_DP_OPT_CLIP 6102        /* per-sample clip norm C [1], (0, 1e6] */
#define LUPI_DP_OPT_SAMPLE_RATE 6103 /* sampling rate q; 0 = the model's BATCH
                                        divided by the training samples the
                                        view sees [0], [0, 1] */
#define LUPI_DP_OPT_DELTA 6104       /* delta [1e-5], (0, 1) */
#define LUPI_DP_OPT_TARGET_EPSILON 6105 /* > 0: the fit takes the smallest
                                        NOISE that reaches this epsilon after
                                        its steps (lupi_dp_sigma); 0 = off
                                        [0], [0, 1e6] */

/**
 * A DP configuration with default options. @return LUPI_OK; LUPI_EINVAL
 * (out NULL); LUPI_ENOMEM. @since 0.3
 */
LUPI_API int lupi_dp_create(lupi_dp **out);
/** Frees a DP configuration; NULL is a no-op. @since 0.3 */
LUPI_API void lupi_dp_free(lupi_dp *dp);
/**
 * Typed option setters and getters (LUPI_DP_OPT_*).
 * @return LUPI_OK; LUPI_EINVAL (NULL dp or value); LUPI_EUNKNOWN_OPTION
 *         (not a DP key of that type); LUPI_ERANGE with the allowed range.
 * @since 0.3
 */
LUPI_API int lupi_dp_set_int(lupi_dp *dp, int key, int64_t value);
LUPI_API int lupi_dp_get_int(const lupi_dp *dp, int key, int64_t *value);
LUPI_API int lupi_dp_set_double(lupi_dp *dp, int key, double value);
LUPI_API int lupi_dp_get_double(const lupi_dp *dp, int key, double *value);

/**
 * Trains m privately on train (borrowed for the call) with the label loss:
 * EPOCHS epochs of ceil(1/q) DP-SGD steps each, q from dp (or BATCH / n,
 * n = the samples the model's view sees), the model's optimiser applying
 * each noisy gradient. SHUFFLE is not used (sampling is Poisson). valid
 * (may be NULL) is evaluated after each epoch with PATIENCE and
 * RESTORE_BEST as in lupi_model_fit(); it is not protected. progress gets
 * NaN as the training loss (that value is not private). The privacy spent
 * (also after a failure or a cancel that took steps) is recorded in the
 * model: read it with lupi_model_privacy(). A model that already holds a
 * record continues it when q, sigma and delta are the same (the steps add
 * up); a model trained before without a record is taken as public (its
 * earlier training must not have seen train).
 * Refused, with nothing changed: per-sample weights in train and
 * STANDARDIZE without stored statistics (LUPI_ENOTSUP: they are outside
 * the accountant; see doc/privacy.md); a model whose record no longer
 * covers it, one recorded with another q, sigma or delta, or a PATE
 * student's record (LUPI_ESTATE);
 * TARGET_EPSILON on a model with a record (LUPI_ENOTSUP).
 * @return LUPI_OK; LUPI_EINVAL (NULL); LUPI_ESHAPE and LUPI_ESTATE (the
 *         datasets do not fit the model); LUPI_ENOTSUP; LUPI_ERANGE
 *         (TARGET_EPSILON out of reach); LUPI_EIO (the operating system
 *         gives no random bytes); LUPI_ENONFINITE; LUPI_ECANCELLED;
 *         LUPI_ENOMEM. @since 0.3
 */
LUPI_API int lupi_model_fit_dp(lupi_model *m, const lupi_dp *dp,
			       const lupi_dataset *train,
			       const lupi_dataset *valid,
			       lupi_progress_fn progress, void *user);
/**
 * As lupi_model_fit_dp() for a student distilled from a teacher with an
 * output loss (a copy of loss, normalised per sample; NULL as in
 * lupi_student_step()). Each sample's loss depends on its own features and
 * the teacher's outputs on it, so the guarantee holds when the teacher
 * does not depend on train (trained on public data, or itself private:
 * then the two guarantees compose, which this record does not include).
 * @return as lupi_model_fit_dp(), plus LUPI_ENOTSUP (a feature loss:
 *         they couple samples), LUPI_ESHAPE and LUPI_EMISMATCH (teacher).
 * @since 0.3
 */
LUPI_API int lupi_student_fit_dp(lupi_model *student,
				 const lupi_teacher *teacher,
				 const lupi_loss *loss, const lupi_dp *dp,
				 const lupi_dataset *train,
				 const lupi_dataset *valid,
				 lupi_progress_fn progress, void *user);
/**
 * The privacy a private fit spent on m (also read from its file): epsilon
 * for delta after steps steps at sampling rate q and noise multiplier
 * sigma. For a PATE student's record (lupi_pate_fit_student(); see
 * lupi_model_privacy_pate()): epsilon and delta of the data-independent
 * bound, steps = the queries accounted, q = NaN (no sampling), sigma =
 * the aggregation's noise scale (Gaussian sigma or Laplace b, in votes).
 * Every output pointer may be NULL.
 * @return LUPI_OK; LUPI_EINVAL (m NULL); LUPI_ESTATE when m holds no
 *         record, or when it was trained or its parameters set without DP
 *         after the private fit (the record is filled in, with epsilon
 *         infinity: it does not cover the model). @since 0.3
 */
LUPI_API int lupi_model_privacy(const lupi_model *m, double *epsilon,
				double *delta, uint64_t *steps, double *q,
				double *sigma);

/**
 * The accountant: epsilon of `steps` steps of the sampled Gaussian
 * mechanism (Poisson rate q, noise multiplier sigma) for delta, by Renyi
 * DP (Mironov, Talwar & Zhang 2019) over the orders 1.1, 1.2, ..., 10.9,
 * 11..63, 128, 256 and the classic conversion epsilon = rdp - log(delta) /
 * (alpha - 1). It reproduces TensorFlow Privacy's published values (q =
 * 256/60000, sigma 1.1, 60 epochs: 3.01). 0 steps give 0.
 * @return LUPI_OK; LUPI_EINVAL (epsilon NULL); LUPI_ERANGE (q not in
 *         (0, 1], sigma not > 0, delta not in (0, 1)). @since 0.3
 */
LUPI_API int lupi_dp_epsilon(double q, double sigma, uint64_t steps,
			     double delta, double *epsilon);
/**
 * The inverse: the smallest noise multiplier (to a relative 1e-6, rounded
 * up) whose lupi_dp_epsilon() is at most epsilon.
 * @return LUPI_OK; LUPI_EINVAL (sigma NULL); LUPI_ERANGE (q, delta,
 *         epsilon not > 0, or an epsilon that sigma 1e4 cannot reach).
 * @since 0.3
 */
LUPI_API int lupi_dp_sigma(double q, uint64_t steps, double delta,
			   double epsilon, double *sigma);

/* ------------------------------------------------------------------------ */
/* Data-parallel training and checkpoints (doc/scaling.md)                   */
/* ------------------------------------------------------------------------ */

/**
 * A gradient reduction supplied by the host: replaces buf[0..n) by the
 * MEAN of the buffers of all workers (every worker passes its own gradient
 * of its mean loss over its share of the global batch, and every worker
 * must get back the same bits). The hook averages, so the library never
 * needs to know how many workers there are, and with one worker the
 * identity is a valid hook. Returns 0, or a negative LUPI_E* code (or any
 * negative value) that the step returns unchanged; the update is then not
 * applied. liblupi-mpi (lupi_mpi.h) supplies one over an MPI_Comm.
 * @since 0.3
 */
typedef int (*lupi_reduce_fn)(void *user, float *buf, size_t n);

/**
 * Installs a gradient reduction on m: lupi_model_step(),
 * lupi_student_step() and the fits built on them (lupi_model_fit(),
 * lupi_student_fit()) call fn(user, gradient, lupi_model_num_params(m))
 * once per step, between the backward pass and the optimiser update, with
 * all gradients in one contiguous buffer; everything else about a step is
 * unchanged. fn NULL removes it; without one a step is bit-identical to a
 * step of a model that never had one. user is borrowed until the hook is
 * replaced or m freed. lupi_model_gradient(), lupi_model_apply_gradient()
 * and the private fits (lupi_model_fit_dp()) do not call it. A clone or a
 * loaded model starts without. Every worker must run the same number of
 * steps (lupi_model_set_share() on the whole training set, or equal shards:
 * lupi_mpi_shard()). The loss a step reports is the worker's own.
 * @return LUPI_OK; LUPI_EINVAL (m NULL). @since 0.3
 */
LUPI_API int lupi_model_set_reduce(lupi_model *m, lupi_reduce_fn fn,
				   void *user);

/**
 * Makes the fits of m (lupi_model_fit(), lupi_student_fit()) train share
 * `index` of `count` of every batch, so that `count` workers, each with
 * the whole training set, its own index and a reduction hook
 * (lupi_model_set_reduce()), train the model of one process up to float
 * summation order, with shuffling on: every worker draws the same
 * permutation per epoch (the same seed) and cuts the same batches of
 * BATCH samples, and steps on the contiguous part
 * [floor(index b / count), floor((index + 1) b / count)) of a batch of b
 * samples, its gradient weighted by count x (part size) / b before the
 * hook averages, so the mean is the gradient of the whole batch. A worker
 * whose part is empty (b < count) contributes a zero gradient and still
 * reduces and updates. Exact for losses that are means over samples
 * (labels, KD); with sample weights or masked labels or teacher outputs
 * each part's mean is weighted by its sample count, and relational losses
 * (RKD, CRD) see the pairs within a part. Dropout masks are drawn for the
 * worker's own rows, and the random generator then advances as for the
 * whole batch, so the workers keep drawing the same permutations.
 * Checkpoints hold the global order and position, so a fit resumes on any
 * number of workers. count 1 (the default) is a plain fit, bit for bit.
 * Not cloned nor saved. Private fits (lupi_model_fit_dp()) ignore it, as
 * they ignore the hook; lupi_tram_fit() refuses a count above 1. A fit
 * with a count above 1 and no hook returns LUPI_ESTATE.
 * @return LUPI_OK; LUPI_EINVAL (m NULL); LUPI_ERANGE (count 0, index >=
 *         count). @since 0.3
 */
LUPI_API int lupi_model_set_share(lupi_model *m, unsigned index,
				  unsigned count);

/**
 * Makes the fits of m (lupi_model_fit(), lupi_student_fit()) write a
 * checkpoint to path every every_k_steps optimiser steps: the model (as
 * lupi_model_save() writes it), the optimiser state and step count, the
 * random generator, the epoch, the epoch's shuffled order and the position
 * in it, the running epoch loss and the best-epoch copy of RESTORE_BEST.
 * Each write is atomic (a temporary file renamed over path), so a killed
 * job leaves the previous checkpoint. path is copied; NULL or every_k_steps
 * 0 turns checkpoints off. A failed write stops the fit with its error.
 * With several workers, set it on one of them only.
 * @return LUPI_OK; LUPI_EINVAL (m NULL, empty path); LUPI_ENOMEM.
 * @since 0.3
 */
LUPI_API int lupi_model_set_checkpoint(lupi_model *m, const char *path,
				       uint64_t every_k_steps);

/**
 * Restores m from a checkpoint written by a fit of a model of the same
 * shape (inputs, layers, outputs): parameters, options, standardisation,
 * optimiser state, random generator and epoch now; the next fit of m on
 * the same training set (same samples eligible) then continues at the
 * saved position and ends with the same bits as the fit that wrote the
 * checkpoint would have had it not stopped (same build and thread count;
 * losses whose handle keeps learned state, FitNets hints and CRD, are not
 * in the checkpoint). On error m is unchanged.
 * @return LUPI_OK; LUPI_EINVAL (NULL); LUPI_EIO; LUPI_EFORMAT (not a
 *         checkpoint, truncated); LUPI_ECHECKSUM; LUPI_EVERSION;
 *         LUPI_ESHAPE (a model of another shape); LUPI_ENOMEM.
 *         The next fit returns LUPI_ESHAPE when its training set has
 *         another number of eligible samples than the checkpoint's.
 * @since 0.3
 */
LUPI_API int lupi_model_resume(lupi_model *m, const char *path);

/* ------------------------------------------------------------------------ */
/* PATE, machine unlearning and membership inference                         */
/* ------------------------------------------------------------------------ */

/*
 * PATE (Papernot et al. 2017, 2018): teachers trained on disjoint shards of
 * a private set vote on the samples of a public set, a noisy aggregation of
 * the votes labels some of them, and a student trained on those labels is
 * what ships. The accounting is the data-independent RDP bound
 * (lupi_pate_epsilon), and the smaller data-dependent bound, which is not
 * itself private (lupi_pate_epsilon_data_dependent); doc/privacy.md states
 * the assumptions. Unlearning removes a forget set from a trained model
 * (retraining, SISA shards, distillation from a random or "bad" teacher);
 * membership inference audits a model.
 *
 * The functions here that train several models (PATE teachers, SISA
 * shards and stages, unlearning passes, LiRA shadow models) take a
 * progress callback (may be NULL) that gets each fit's reports with epoch
 * and epochs counted over the whole run: the planned epochs of all its
 * fits in order (a fit stopped early by PATIENCE, or a SISA stage with no
 * sample left, skips the rest of its epochs), step and loss those of the
 * current fit. Returning non-zero stops the run with LUPI_ECANCELLED, in
 * the state each function states for a failure.
 */

/* Noisy aggregations of teacher votes (frozen values). @since 0.3 */
#define LUPI_PATE_LAPLACE 0   /* argmax of counts + Laplace(0, noise) each
                                 (Papernot et al. 2017); 2/noise-DP */
#define LUPI_PATE_GNMAX 1     /* argmax of counts + N(0, noise^2) each
                                 (GNMax, Papernot et al. 2018) */
#define LUPI_PATE_CONFIDENT 2 /* confident GNMax: answers only when the
                                 largest count + N(0, sigma1^2) reaches the
                                 threshold, then GNMax */

/**
 * Deals the samples of priv into k disjoint shards (sizes differ by at most
 * one, fixed by seed) and trains one clone of proto (untrained; its
 * options apply, its SEED replaced by seed + shard) on each, with the
 * label loss: the k teachers of PATE, as one teacher handle with k members
 * of weight 1 in shard order. priv is borrowed for the call. progress
 * (may be NULL) as above, over k x EPOCHS epochs. On any failure *out is
 * NULL (the teachers trained so far are freed).
 * @return LUPI_OK; LUPI_EINVAL (NULL); LUPI_ERANGE (k < 2, or more shards
 *         than samples); LUPI_ESTATE (proto already trained, or priv has no
 *         targets of proto's task); LUPI_ENOTSUP (a regression model: votes
 *         need classes); LUPI_ECANCELLED; errors of lupi_model_fit();
 *         LUPI_ENOMEM. @since 0.3
 */
LUPI_API int lupi_pate_teachers(const lupi_model *proto,
				const lupi_dataset *priv, unsigned k,
				uint64_t seed, lupi_teacher **out,
				lupi_progress_fn progress, void *user);
/**
 * The vote histogram of t's model members on every sample of pub: votes
 * (rows x K counts, K = t's classes, 2 for binary) gets, per sample, how
 * many members predict each class. Members that are external outputs are
 * refused. @return LUPI_OK; LUPI_EINVAL (NULL); LUPI_ESTATE (no member, or
 * a sample lacks the X* a member reads); LUPI_ENOTSUP (a regression
 * teacher, or an external member); LUPI_ESHAPE (a member's inputs do not
 * fit pub); LUPI_ENOMEM. @since 0.3
 */
LUPI_API int lupi_pate_votes(const lupi_teacher *t, const lupi_dataset *pub,
			     uint32_t *votes);
/**
 * Noisy aggregation of n vote histograms (n x k counts) by mechanism
 * (LUPI_PATE_*) with noise scale `noise` (Laplace b, or Gaussian sigma2);
 * for CONFIDENT also sigma1 and threshold (ignored otherwise). labels (n)
 * gets the noisy plurality, or -1 where CONFIDENT did not answer; *answered
 * (may be NULL) the number answered. The noise comes from a generator fit
 * for privacy seeded from the operating system when seed is 0; any other
 * seed makes it reproducible and predictable (tests only).
 * @return LUPI_OK; LUPI_EINVAL (NULL, n 0, k < 2, unknown mechanism);
 *         LUPI_ERANGE (noise or sigma1 not finite and > 0, threshold not
 *         finite); LUPI_EIO (the OS gives no random bytes). @since 0.3
 */
LUPI_API int lupi_pate_aggregate(const uint32_t *votes, size_t n, size_t k,
				 int mechanism, double noise, double sigma1,
				 double threshold, uint64_t seed,
				 int32_t *labels, size_t *answered);
/**
 * The data-independent (epsilon, delta) of PATE queries, adjacency = one
 * private sample added or removed (it moves one teacher's vote): RDP of
 * order alpha per query alpha / noise^2 for GNMax (a Gaussian mechanism of
 * L2 sensitivity sqrt 2), min(2/b, 2 alpha / b^2) for Laplace noisy max of
 * scale b = noise; CONFIDENT adds alpha / (2 sigma1^2) for the check of
 * each of the `queries` queries and GNMax's cost for each of the
 * `answered` ones (0 for the others); composed over queries and converted
 * as lupi_dp_epsilon() does, over the same orders.
 * @return LUPI_OK; LUPI_EINVAL (epsilon NULL, unknown mechanism);
 *         LUPI_ERANGE (noise, sigma1 (CONFIDENT) not finite and > 0, delta
 *         not in (0, 1), answered > queries). @since 0.3
 */
LUPI_API int lupi_pate_epsilon(int mechanism, double noise, double sigma1,
			       uint64_t queries, uint64_t answered,
			       double delta, double *epsilon);
/**
 * The data-dependent (epsilon, delta) of n GNMax or confident GNMax
 * queries (Papernot et al. 2018, Sec. 4 and App. A) from their vote
 * histograms (n x k counts, as lupi_pate_aggregate() read them): per
 * query, q~ = the union bound (Prop. 7) on the probability that the noisy
 * argmax is not the plurality, and the data-dependent RDP of Theorem 6 at
 * each order where its conditions hold (else the data-independent alpha /
 * noise^2, never more); CONFIDENT adds for every query the check's
 * data-dependent RDP (from the exact probability of answering), and the
 * GNMax cost only for the answered ones (labels[i] >= 0; labels may be
 * NULL for GNMAX: every query answered). Composed and converted as
 * lupi_pate_epsilon() does, it is never larger than that bound. The value
 * depends on the private votes: releasing it is not covered by the
 * guarantee (the paper adds smooth-sensitivity noise, not implemented;
 * doc/privacy.md).
 * @return LUPI_OK; LUPI_EINVAL (NULL votes or epsilon, n 0, k < 2, unknown
 *         mechanism, NULL labels for CONFIDENT); LUPI_ENOTSUP (LAPLACE);
 *         LUPI_ERANGE (noise, sigma1 (CONFIDENT) not finite and > 0,
 *         threshold not finite, delta not in (0, 1), a label >= k).
 * @since 0.3
 */
LUPI_API int lupi_pate_epsilon_data_dependent(const uint32_t *votes,
					      size_t n, size_t k,
					      const int32_t *labels,
					      int mechanism, double noise,
					      double sigma1, double threshold,
					      double delta, double *epsilon);
/**
 * Trains the student on the answered samples of pub (labels[i] >= 0, from
 * lupi_pate_aggregate() with mechanism, noise, sigma1 and threshold; pub's
 * own targets are not read) with the label loss, as lupi_model_fit() with
 * valid (not protected) and progress. pub is borrowed. The student then
 * holds a PATE privacy record, saved in its file: the data-independent
 * bound of lupi_pate_epsilon() for delta over the rows of pub as queries
 * and the answered ones (read it with lupi_model_privacy() and
 * lupi_model_privacy_pate()). It replaces any record the student held,
 * and is written as soon as a step was taken (also after a failure or a
 * cancel); later training or setting parameters without it marks it as
 * not covering the model, as for DP-SGD. Refused with nothing changed:
 * bad accounting arguments (checked first, as lupi_pate_epsilon() does).
 * @return LUPI_OK; LUPI_EINVAL (NULL, unknown mechanism); LUPI_ERANGE
 *         (noise or sigma1 (CONFIDENT) not finite and > 0, threshold
 *         (CONFIDENT) not finite, delta not in (0, 1), a label >= the
 *         student's classes); LUPI_ESTATE (no sample answered); LUPI_ENOTSUP (a
 *         regression student); LUPI_ECANCELLED; errors of lupi_model_fit().
 * @since 0.3
 */
LUPI_API int lupi_pate_fit_student(lupi_model *student,
				   const lupi_dataset *pub,
				   const int32_t *labels,
				   const lupi_dataset *valid, int mechanism,
				   double noise, double sigma1,
				   double threshold, double delta,
				   lupi_progress_fn progress, void *user);
/**
 * The mechanism of a PATE student's privacy record (lupi_pate_fit_student(),
 * also read from its file): *mechanism (LUPI_PATE_*), *noise, *sigma1 and
 * *threshold (0 unless CONFIDENT) as given to the aggregation, *queries
 * (the rows labelled) and *answered; epsilon and delta through
 * lupi_model_privacy(). Every output pointer may be NULL.
 * @return LUPI_OK; LUPI_EINVAL (m NULL); LUPI_ESTATE (m holds no record,
 *         or a DP-SGD one: lupi_model_privacy() reads it). The values are
 *         written also when the record no longer covers the model.
 * @since 0.3
 */
LUPI_API int lupi_model_privacy_pate(const lupi_model *m, int *mechanism,
				     double *noise, double *sigma1,
				     double *threshold, uint64_t *queries,
				     uint64_t *answered);

/* Unlearning methods (frozen values). @since 0.3 */
#define LUPI_UNLEARN_RETRAIN 0      /* the reference: a fresh clone trained
                                       on the retain set */
#define LUPI_UNLEARN_RANDOM_TEACHER 1 /* from the model: distil a randomly
                                       initialised teacher on the forget
                                       set, then the model on the retain set
                                       (a stochastic teacher, Zhang et al.
                                       2023) */
#define LUPI_UNLEARN_BAD_TEACHER 2  /* from the model: distil, in the same
                                       batches, the model on retain samples
                                       and a random teacher on forget samples
                                       (Chundawat et al. 2023) */
#define LUPI_UNLEARN_SCRUB 3        /* from the model: alternate epochs of
                                       gradient ascent of KL(model || student)
                                       on the forget set and descent of KL +
                                       cross-entropy on the retain set
                                       (Kurmanji et al. 2023) */

/**
 * Removes samples forget[0..n_forget) of train (the set m was trained on;
 * borrowed) from m by method (LUPI_UNLEARN_*) into a new model *out; m is
 * not changed. RETRAIN trains a re-initialised clone on the retain set for
 * m's EPOCHS (epochs ignored); the other methods start from a clone of m
 * and run `epochs` epochs (0: 1) of distillation (KD, lambda 1, T 1) with
 * m's BATCH and optimiser. *steps and *seconds (may be NULL) get the
 * optimiser steps taken and the wall-clock time. progress (may be NULL)
 * as above, over m's EPOCHS (RETRAIN), `epochs` (BAD_TEACHER) or 2 x
 * `epochs` epochs (RANDOM_TEACHER and SCRUB: a pass over the forget set,
 * SCRUB's reported step by step, and one over the retain set per epoch).
 * On any failure, a cancel included, *out is NULL and *steps and *seconds
 * are not written.
 * @return LUPI_OK; LUPI_EINVAL (NULL, unknown method, n_forget 0);
 *         LUPI_ERANGE (an index >= rows, or a forget set that leaves no
 *         retain sample); LUPI_ESTATE (m has no weights); LUPI_ENOTSUP (a
 *         regression model with a distillation method); LUPI_ECANCELLED;
 *         errors of lupi_model_fit() and lupi_student_step(); LUPI_ENOMEM.
 * @since 0.3
 */
LUPI_API int lupi_unlearn(const lupi_model *m, const lupi_dataset *train,
			  const size_t *forget, size_t n_forget, int method,
			  unsigned epochs, lupi_model **out, uint64_t *steps,
			  double *seconds, lupi_progress_fn progress,
			  void *user);
/**
 * The indices of the samples of ds labelled cls, ascending, into idx (room
 * for rows entries) and their count into *n: a whole class as a forget set.
 * @return LUPI_OK; LUPI_EINVAL (NULL); LUPI_ESTATE (ds has no class
 *         labels). @since 0.3
 */
LUPI_API int lupi_unlearn_class_indices(const lupi_dataset *ds, int32_t cls,
					size_t *idx, size_t *n);

/*
 * SISA (Bourtoule et al. 2021): a model per disjoint shard of the training
 * set, each trained slice by slice with a checkpoint before each slice;
 * deleting samples retrains only the shards that held them, each from the
 * checkpoint before the first slice that held one (from scratch without
 * slices). The ensemble predicts the mean of its shard models'
 * probabilities.
 */
typedef struct lupi_sisa lupi_sisa;

/**
 * Deals the samples of train into `shards` disjoint shards as
 * lupi_pate_teachers() does and trains a clone of proto (untrained, SEED
 * replaced by seed + shard) on each. train is copied. progress (may be
 * NULL) as above, over shards x EPOCHS epochs. On any failure *out is
 * NULL.
 * @return LUPI_OK; LUPI_EINVAL (NULL); LUPI_ERANGE (shards < 1, or more
 *         than samples); LUPI_ESTATE (proto already trained, or train has
 *         no class labels of proto's task); LUPI_ENOTSUP (regression);
 *         LUPI_ECANCELLED; errors of lupi_model_fit(); LUPI_ENOMEM.
 * @since 0.3
 */
LUPI_API int lupi_sisa_create(const lupi_model *proto,
			      const lupi_dataset *train, unsigned shards,
			      uint64_t seed, lupi_sisa **out,
			      lupi_progress_fn progress, void *user);
/**
 * As lupi_sisa_create() with each shard cut into `slices` slices and
 * trained incrementally (Bourtoule et al. 2021, Sec. 4.2): a shard's
 * samples in increasing index order, the j-th of m in slice floor(j slices
 * / m); stage r = 0..slices-1 continues the shard's model on its slices
 * 0..r for ceil(2 EPOCHS / (slices + 1)) epochs (about the samples of EPOCHS
 * epochs on the whole shard), and the model before each stage is kept (a
 * checkpoint: slices models per shard in memory). lupi_sisa_forget() then
 * resumes a shard from the checkpoint before the first slice that held a
 * deleted sample; the result is bit for bit the model of training the
 * shard stage by stage from scratch without the deleted samples (same
 * library, thread count and BLAS). lupi_sisa_create() is slices = 1.
 * progress over shards x slices x the stage's epochs.
 * @return as lupi_sisa_create(); LUPI_ERANGE also for slices < 1 or more
 *         slices than the smallest shard has samples. @since 0.3
 */
LUPI_API int lupi_sisa_create_sliced(const lupi_model *proto,
				     const lupi_dataset *train,
				     unsigned shards, unsigned slices,
				     uint64_t seed, lupi_sisa **out,
				     lupi_progress_fn progress, void *user);
/** Frees a SISA ensemble; NULL is a no-op. @since 0.3 */
LUPI_API void lupi_sisa_free(lupi_sisa *s);
/**
 * The cost of the last lupi_sisa_forget(): *steps (may be NULL) the steps
 * it took (as it reported), *scratch_steps (may be NULL) the steps of
 * training the same shards from scratch (every stage) on their remaining
 * samples: slicing saved the difference. Both 0 before any deletion.
 * @return LUPI_OK; LUPI_EINVAL (NULL s). @since 0.3
 */
LUPI_API int lupi_sisa_last_cost(const lupi_sisa *s, uint64_t *steps,
				 uint64_t *scratch_steps);
/**
 * Deletes samples idx[0..n) (indices of the training set given at
 * creation; deleting one twice is a no-op) and retrains each shard that
 * held one on its remaining samples, from the checkpoint before the first
 * slice that held one (from scratch without slices). *steps and *seconds (may
 * be NULL) get the steps and time of the retraining. A shard left empty
 * keeps no model and no longer votes. progress (may be NULL) as above,
 * over the epochs of the stages rerun. On failure, a cancel included, the
 * ensemble is as before (nothing deleted) and *steps and *seconds are not
 * written. @return LUPI_OK; LUPI_EINVAL (NULL, n 0); LUPI_ERANGE (an
 * index); LUPI_ESTATE (every sample would be deleted); LUPI_ECANCELLED;
 * errors of lupi_model_fit(); LUPI_ENOMEM. @since 0.3
 */
LUPI_API int lupi_sisa_forget(lupi_sisa *s, const size_t *idx, size_t n,
			      uint64_t *steps, double *seconds,
			      lupi_progress_fn progress, void *user);
/** Number of shards (0 for NULL). @since 0.3 */
LUPI_API unsigned lupi_sisa_shards(const lupi_sisa *s);
/**
 * The shard that holds (or held) training sample i into *shard.
 * @return LUPI_OK; LUPI_EINVAL (NULL); LUPI_ERANGE (i >= rows). @since 0.3
 */
LUPI_API int lupi_sisa_shard_of(const lupi_sisa *s, size_t i,
				unsigned *shard);
/**
 * The slice of its shard that holds (or held) training sample i into
 * *slice (0 without slices). @return LUPI_OK; LUPI_EINVAL (NULL);
 * LUPI_ERANGE (i >= rows). @since 0.3
 */
LUPI_API int lupi_sisa_slice_of(const lupi_sisa *s, size_t i,
				unsigned *slice);
/**
 * The model of a shard, borrowed: valid until the next lupi_sisa_forget()
 * or lupi_sisa_free(); NULL for NULL s, a shard out of range or an empty
 * shard. @since 0.3
 */
LUPI_API const lupi_model *lupi_sisa_model(const lupi_sisa *s,
					   unsigned shard);
/**
 * Mean class probabilities of the shard models on n samples x (n x d
 * floats, as lupi_model_predict()) into out (n x K; K = 2 for binary:
 * P(0), P(1)). @return LUPI_OK; LUPI_EINVAL; errors of
 * lupi_model_predict(). @since 0.3
 */
LUPI_API int lupi_sisa_predict(const lupi_sisa *s, const float *x, size_t n,
			       size_t d, float *out);

/**
 * Membership scores of the loss-threshold attack (Yeom et al. 2018): minus
 * each sample's loss under m (classification -log p(y), binary the
 * logistic loss, regression 1/2 |f - y|^2), so that a higher score means
 * "more likely a training member", into scores (rows of ds).
 * @return LUPI_OK; LUPI_EINVAL (NULL); LUPI_ESTATE (m never trained, or ds
 *         without targets of m's task, or a sample lacking X* m reads);
 *         LUPI_ESHAPE; LUPI_ENONFINITE; LUPI_ENOMEM. @since 0.3
 */
LUPI_API int lupi_mia_loss_scores(const lupi_model *m, const lupi_dataset *ds,
				  double *scores);
/**
 * Offline LiRA (Carlini et al. 2022, offline variant): trains `shadows`
 * clones of proto (untrained) each on a random half of reference (which
 * must not hold the queried samples), fits a Gaussian to each query
 * sample's logit-scaled confidence log(p_y / (1 - p_y)) under the shadow
 * models, and scores the target model's confidence by its z-score under
 * that Gaussian (higher: more likely a member) into scores (rows of
 * queries). progress (may be NULL) as above, over shadows x proto's
 * EPOCHS epochs; on any failure, a cancel included, scores is not
 * written. @return LUPI_OK; LUPI_EINVAL (NULL); LUPI_ERANGE (shadows < 2,
 *         reference with fewer than 2 samples); LUPI_ENOTSUP (regression);
 *         LUPI_ECANCELLED; errors of lupi_model_fit() and
 *         lupi_mia_loss_scores(); LUPI_ENOMEM. @since 0.3
 */
LUPI_API int lupi_mia_lira_offline(const lupi_model *target,
				   const lupi_model *proto,
				   const lupi_dataset *reference,
				   unsigned shadows, uint64_t seed,
				   const lupi_dataset *queries,
				   double *scores, lupi_progress_fn progress,
				   void *user);
/**
 * The ROC of an attack from the scores of n_in members and n_out
 * non-members (higher: member): the AUC (ties count one half) and the true
 * positive rates at false positive rates 0.1% and 1% (the largest TPR of
 * a threshold whose FPR is at most that; with fewer than 1000 non-members,
 * the 0.1% point is the TPR at FPR 0). Each output may be NULL.
 * @return LUPI_OK; LUPI_EINVAL (NULL scores, n_in or n_out 0);
 *         LUPI_ENONFINITE (a NaN score); LUPI_ENOMEM. @since 0.3
 */
LUPI_API int lupi_mia_roc(const double *in_scores, size_t n_in,
			  const double *out_scores, size_t n_out, double *auc,
			  double *tpr_at_0_1pct, double *tpr_at_1pct);

/* Columns of a lupi_privacy_evaluate() row (frozen). @since 0.3 */
#define LUPI_PRIVACY_EVAL_TEST 0    /* accuracy on test (MSE for regression);
                                       NaN without test */
#define LUPI_PRIVACY_EVAL_MEMBERS 1 /* the same on the members */
#define LUPI_PRIVACY_EVAL_EPSILON 2 /* the model's privacy record
                                       (lupi_model_privacy()); infinity
                                       without one, or when it no longer
                                       covers the model */
#define LUPI_PRIVACY_EVAL_DELTA 3   /* its delta; 0 without a record */
#define LUPI_PRIVACY_EVAL_AUC 4     /* loss-threshold attack, members vs
                                       non-members (lupi_mia_roc()) */
#define LUPI_PRIVACY_EVAL_TPR_0_1 5 /* its TPR at 0.1% FPR */
#define LUPI_PRIVACY_EVAL_TPR_1 6   /* its TPR at 1% FPR */
#define LUPI_PRIVACY_EVAL_COLS 7    /* columns of a row */

/**
 * Non-private and private models side by side on the same data: for each
 * of models[0..n_models) (trained on `members`, or on a set that holds
 * them; never on `non_members`), a row of LUPI_PRIVACY_EVAL_COLS doubles
 * in table (n_models x COLS, row-major): accuracy on test and on the
 * members, the (epsilon, delta) of its privacy record, and the
 * loss-threshold attack's AUC and TPRs, members against non-members. A
 * PATE student's record (lupi_pate_fit_student()) gives its
 * data-independent epsilon. test may be NULL. On an
 * error every cell is NaN.
 * @return LUPI_OK; LUPI_EINVAL (NULL, n_models 0, a NULL model, an empty
 *         set); LUPI_ERANGE (n_models rows do not fit an array);
 *         LUPI_ESTATE (a model without weights, or a set without its
 *         task's targets); LUPI_ESHAPE; errors of lupi_model_evaluate() and
 *         lupi_mia_loss_scores(); LUPI_ENOMEM. @since 0.3
 */
LUPI_API int lupi_privacy_evaluate(const lupi_model **models,
				   size_t n_models,
				   const lupi_dataset *members,
				   const lupi_dataset *non_members,
				   const lupi_dataset *test, double *table);

/* ------------------------------------------------------------------------ */
/* SVM+ (learning using privileged information with a correcting function)  */
/* ------------------------------------------------------------------------ */

/*
 * SVM+ (Vapnik & Vashist 2009): a binary SVM on X whose slacks are modelled
 * by a correcting function phi(x*) = <w*, z*(x*)> + b* on the privileged
 * features X*, trained by the dual solver aSMO of Pechyony, Izmailov,
 * Vashist & Vapnik (2010) to a KKT tolerance. Prediction needs X only.
 * Formulation, limits and file format: doc/families.md.
 */
typedef struct lupi_svm lupi_svm;

/* The handle number of SVM+ models (key / 1000). @since 0.3 */
#define LUPI_HANDLE_SVM 7

/* Kernel kinds (frozen). @since 0.3 */
#define LUPI_SVM_KERNEL_LINEAR 0 /* <x, x'> */
#define LUPI_SVM_KERNEL_RBF 1    /* exp(-width |x - x'|^2) */

/* Integer options of an SVM+ (frozen keys); defaults in brackets.
 * @since 0.3 */
#define LUPI_SVM_OPT_KERNEL 7001      /* kernel on X [RBF] */
#define LUPI_SVM_OPT_PRIV_KERNEL 7002 /* kernel on X* [RBF] */
#define LUPI_SVM_OPT_MAX_ITER 7003    /* solver steps at most [10^7],
                                         >= 1 */
#define LUPI_SVM_OPT_CACHE_BYTES 7004 /* byte budget of each of the two
                                         kernel row caches (LRU; at least
                                         3 rows are kept) [64 MiB], >= 0 */
#define LUPI_SVM_OPT_PLAIN 7005       /* 1: fit a plain C-SVM on X (SMO;
                                         X* and GAMMA are not used), the
                                         baseline of SVM+ [0], 0..1 */

/* Real options of an SVM+ (frozen keys). @since 0.3 */
#define LUPI_SVM_OPT_C 7101          /* C, weight of the slacks [1],
                                        (0, 1e12] */
#define LUPI_SVM_OPT_GAMMA 7102      /* gamma, weight of |w*|^2 [1],
                                        (0, 1e12] */
#define LUPI_SVM_OPT_WIDTH 7103      /* RBF width on X [1], (0, 1e12] */
#define LUPI_SVM_OPT_PRIV_WIDTH 7104 /* RBF width on X* [1], (0, 1e12] */
#define LUPI_SVM_OPT_TOLERANCE 7105  /* stop when the largest KKT
                                        violation is below [1e-3], (0, 1] */

/**
 * An SVM+ with default options, not fitted. @return LUPI_OK; LUPI_EINVAL
 * (out NULL); LUPI_ENOMEM. @since 0.3
 */
LUPI_API int lupi_svm_create(lupi_svm **out);
/** Frees an SVM+; NULL is a no-op. @since 0.3 */
LUPI_API void lupi_svm_free(lupi_svm *svm);
/**
 * Typed option setters and getters (LUPI_SVM_OPT_*); a fit uses the values
 * set at its start.
 * @return LUPI_OK; LUPI_EINVAL (NULL svm or value); LUPI_EUNKNOWN_OPTION
 *         (not an SVM+ key of that type); LUPI_ERANGE with the allowed
 *         range. @since 0.3
 */
LUPI_API int lupi_svm_set_int(lupi_svm *svm, int key, int64_t value);
LUPI_API int lupi_svm_get_int(const lupi_svm *svm, int key, int64_t *value);
LUPI_API int lupi_svm_set_double(lupi_svm *svm, int key, double value);
LUPI_API int lupi_svm_get_double(const lupi_svm *svm, int key,
				 double *value);
/**
 * Fits the SVM+ on train (borrowed for the call): class labels (binary,
 * or K classes), X and X* of every sample (X only with PLAIN). Two classes
 * make one machine (class 1 positive); K > 2 classes make K machines, one
 * per class against the rest. Replaces an earlier fit. The solver stops
 * at TOLERANCE or after MAX_ITER steps (then lupi_svm_info() reports a
 * violation above the tolerance); both are successes.
 * @return LUPI_OK; LUPI_EINVAL (NULL, a class with no or all samples);
 *         LUPI_ESTATE (no X*); LUPI_ENOTSUP (no class labels, more than
 *         65536 classes, a sample without X*, sample weights): these
 *         leave an earlier fit in place; LUPI_ENOMEM (the SVM+ is then
 *         not fitted). @since 0.3
 */
LUPI_API int lupi_svm_fit(lupi_svm *svm, const lupi_dataset *train);
/** The number of machines of a fitted SVM+ (1 for two classes, else K);
 * 0 when svm is NULL or not fitted. @since 0.3 */
LUPI_API size_t lupi_svm_machines(const lupi_svm *svm);
/**
 * Decision values f(x) = sum_i a_i y_i K(x_i, x) + b on the regular
 * features of ds (n * lupi_svm_machines() doubles into out, sample-major;
 * ds borrowed for the call).
 * @return LUPI_OK; LUPI_EINVAL (NULL); LUPI_ESTATE (not fitted);
 *         LUPI_ESHAPE (another feature count). @since 0.3
 */
LUPI_API int lupi_svm_decision(const lupi_svm *svm, const lupi_dataset *ds,
			       double *out);
/**
 * Classes (n int32 into classes): for two classes 1 where the decision
 * value is > 0, else 0; for K the machine with the largest value (the
 * first on ties). @return as lupi_svm_decision(). @since 0.3
 */
LUPI_API int lupi_svm_predict(const lupi_svm *svm, const lupi_dataset *ds,
			      int32_t *classes);
/**
 * Values of the correcting function phi(x*) on the privileged features of
 * ds (n * lupi_svm_machines() doubles as in lupi_svm_decision(); NaN for
 * a sample without X*): on the training set, the
 * slacks SVM+ assigned. @return LUPI_OK; LUPI_EINVAL (NULL); LUPI_ESTATE
 * (not fitted, a PLAIN fit, or ds without X*); LUPI_ESHAPE. @since 0.3
 */
LUPI_API int lupi_svm_correcting(const lupi_svm *svm, const lupi_dataset *ds,
				 double *out);
/**
 * Of one machine (0 .. lupi_svm_machines() - 1): the fitted offsets b and
 * b*, the dual objective at the solution, the largest KKT violation left,
 * the solver steps and the number of support vectors (samples with
 * a_i > 0). Every output pointer may be NULL.
 * @return LUPI_OK; LUPI_EINVAL (svm NULL); LUPI_ESTATE (not fitted);
 *         LUPI_ERANGE (no such machine). @since 0.3
 */
LUPI_API int lupi_svm_info(const lupi_svm *svm, size_t machine, double *b,
			   double *bstar, double *objective,
			   double *violation, uint64_t *iterations,
			   size_t *support);
/**
 * Saves a fitted SVM+ (options, offsets, solver record and both kernel
 * expansions) to path atomically, as lupi_model_save() does. Loaded
 * copies predict bit for bit the same values.
 * @return LUPI_OK; LUPI_EINVAL (NULL); LUPI_ESTATE (not fitted); LUPI_EIO
 *         with the path and the reason; LUPI_ENOMEM. @since 0.3
 */
LUPI_API int lupi_svm_save(const lupi_svm *svm, const char *path);
/**
 * As lupi_svm_save() into a buffer allocated by the library (*data, *size);
 * free it with lupi_free(). @return LUPI_OK; LUPI_EINVAL; LUPI_ESTATE;
 * LUPI_ENOMEM. @since 0.3
 */
LUPI_API int lupi_svm_save_memory(const lupi_svm *svm, void **data,
				  size_t *size);
/**
 * Loads an SVM+ file into a new handle (*out, NULL on failure), checked
 * before use: LUPI_EFORMAT (bad magic, sizes, option values, non-finite
 * numbers, truncated), LUPI_EVERSION (unknown major version or flags),
 * LUPI_ECHECKSUM (CRC-32C mismatch).
 * @return LUPI_OK or one of those; LUPI_EINVAL (NULL); LUPI_EIO;
 *         LUPI_ENOMEM. @since 0.3
 */
LUPI_API int lupi_svm_load(const char *path, lupi_svm **out);
/** As lupi_svm_load() from a buffer of size bytes (borrowed for the call).
 * @return as lupi_svm_load(), without LUPI_EIO. @since 0.3 */
LUPI_API int lupi_svm_load_memory(const void *data, size_t size,
				  lupi_svm **out);

/* ------------------------------------------------------------------------ */
/* TRAM and PI marginalisation (label noise explained by X*)                 */
/* ------------------------------------------------------------------------ */

/*
 * TRAM (Collier et al. 2022) and approximate full marginalisation
 * (Ortiz-Jimenez et al. 2023). A host's classification (or binary, or
 * regression) lupi_model m is read as a trunk phi (every layer but the
 * last; the standardised input when m has no hidden layer) and a head h
 * (its last layer). A lupi_tram owns a privileged head g, a dense network
 * on [phi(x), x*] with m's outputs, made by the first step from the shapes
 * it sees. A step minimises L_g + L_h, the task's label loss of g and of
 * h on the same labels (means, weighted by the dataset's weights), where
 * the trunk gets the gradient of L_g only (a stop-gradient between phi and
 * h), h that of L_h, g that of L_g; m is then updated with its optimiser
 * options and g with the same options (its own moments). m stays an
 * ordinary model: it predicts h(phi(x)) from X alone and its file holds phi
 * and h only. lupi_tram_predict_marginal() predicts with g instead,
 * averaging its predictive distribution over a sample of X* rows.
 * doc/families.md has the details and a comparison.
 */
typedef struct lupi_tram lupi_tram;

/* The handle number of TRAM (key / 1000). @since 0.3 */
#define LUPI_HANDLE_TRAM 8

/* Integer options of TRAM (frozen keys); defaults in brackets. They shape
 * g, so they cannot change after the first step (LUPI_ESTATE). @since 0.3 */
#define LUPI_TRAM_OPT_HIDDEN 8001      /* width of g's hidden layers [64],
                                          1..1048576 */
#define LUPI_TRAM_OPT_LAYERS 8002      /* hidden layers of g [1], 0..63
                                          (0: g linear in [phi, x*]) */
#define LUPI_TRAM_OPT_ACTIVATION 8003  /* g's hidden activation, LUPI_ACT_*
                                          IDENTITY..GELU [RELU] */
#define LUPI_TRAM_OPT_SEED 8004        /* g's initialisation [0] */
#define LUPI_TRAM_OPT_STANDARDIZE 8005 /* standardise X* for g, statistics
                                          of the first step's dataset 0/1
                                          [1] */

/**
 * A TRAM handle with default options and no privileged head yet.
 * @return LUPI_OK; LUPI_EINVAL (out NULL); LUPI_ENOMEM. @since 0.3
 */
LUPI_API int lupi_tram_create(lupi_tram **out);
/** Frees a TRAM handle and its privileged head; NULL is a no-op.
 * @since 0.3 */
LUPI_API void lupi_tram_free(lupi_tram *t);
/**
 * Typed option setter and getter (LUPI_TRAM_OPT_*; TRAM has no real
 * options). @return LUPI_OK; LUPI_EINVAL (NULL t or value);
 * LUPI_EUNKNOWN_OPTION (not a TRAM key of that type); LUPI_ERANGE with the
 * allowed range; LUPI_ESTATE (set: the head exists). @since 0.3
 */
LUPI_API int lupi_tram_set_int(lupi_tram *t, int key, int64_t value);
LUPI_API int lupi_tram_get_int(const lupi_tram *t, int key, int64_t *value);
/**
 * One joint step of m (borrowed; VIEW must be REGULAR) and the privileged
 * head on samples idx[0..n) of ds (borrowed for the call), which needs X*:
 * samples without X* give h's term only. The first step creates the head
 * for m's trunk width, outputs and task and ds's X* width (and with
 * STANDARDIZE the X* statistics of ds), and binds the handle to them; it
 * also initialises m and fits its standardisation as lupi_model_step()
 * does. *loss (when not NULL) gets L_g + L_h.
 * @return LUPI_OK; LUPI_EINVAL (NULL, n 0); LUPI_ENOTSUP (m's VIEW is not
 *         REGULAR); LUPI_ESTATE (ds without X* or without targets of m's
 *         task); LUPI_ESHAPE (m or ds's X* width differs from what the
 *         handle is bound to, or ds does not fit m); LUPI_ERANGE (an
 *         index, a too large batch, or [phi, x*] wider than 1048576);
 *         LUPI_ENONFINITE (a loss or gradient, nothing changed; or an
 *         update, which leaves m as it was); LUPI_ENOMEM. @since 0.3
 */
LUPI_API int lupi_tram_step(lupi_tram *t, lupi_model *m,
			    const lupi_dataset *ds, const size_t *idx,
			    size_t n, double *loss);
/**
 * Trains m and the head with lupi_tram_step() as lupi_model_fit() trains
 * m alone: m's EPOCHS, BATCH, SHUFFLE, schedule, PATIENCE, RESTORE_BEST
 * (m's weights only) and progress; valid (may be NULL) is scored with m,
 * i.e. with h. @return as lupi_tram_step(), plus LUPI_ECANCELLED.
 * @since 0.3
 */
LUPI_API int lupi_tram_fit(lupi_tram *t, lupi_model *m,
			   const lupi_dataset *train,
			   const lupi_dataset *valid,
			   lupi_progress_fn progress, void *user);
/**
 * Marginalised prediction: for each of n rows of x (n * d floats, d =
 * m's inputs), the mean over the n_s rows of xs (n_s * d_priv floats,
 * e.g. X* of the training set or a random sample of it) of the privileged
 * head's predictive distribution g(phi(x), x*) into out (n * outputs
 * floats: probabilities, P(y = 1) for binary, or values for regression).
 * m is the model the handle trained (borrowed, const; thread-safe on a t
 * and m nobody modifies). Costs n * n_s forward passes of g.
 * @return LUPI_OK; LUPI_EINVAL (NULL, n or n_s 0); LUPI_ESTATE (no step
 *         yet, or m not initialised); LUPI_ENOTSUP (m's VIEW is not
 *         REGULAR); LUPI_ESHAPE (d, d_priv or m's shape differ from the
 *         handle's); LUPI_ERANGE (n * d, n * outputs or n_s * d_priv
 *         floats overflow); LUPI_ENONFINITE (xs, or an output, not
 *         finite); LUPI_ENOMEM. @since 0.3
 */
LUPI_API int lupi_tram_predict_marginal(const lupi_tram *t,
					const lupi_model *m, const float *x,
					size_t n, size_t d, const float *xs,
					size_t n_s, size_t d_priv, float *out);

/* ------------------------------------------------------------------------ */
/* Transfer sets: unlabelled samples, column subsets, shared initialisation  */
/* ------------------------------------------------------------------------ */

/*
 * Distillation on a transfer set (unlabelled data, synthetic data, noise)
 * needs no labels where the loss does not read them: lupi_student_step(),
 * _gradient(), _loss() and _fit() accept a dataset without targets
 * (LUPI_TASK_NONE) when the loss is KD, LOGITS or REGRESSION at LAMBDA 1
 * without a teacher filter, with a teacher (a feature loss adds to that);
 * otherwise they return LUPI_ESTATE naming what reads the labels. In
 * lupi_loss_eval() labels and targets may then both be NULL, and a label
 * of -1 marks a sample without one: its label term is 0 (see
 * doc/transfer.md for the NORMALIZE rule). A HARD loss's columns restrict
 * its softmax (the label must be one of them); the columns of the other
 * kinds restrict their teacher term only.
 */

/**
 * Marks which samples of a classification or binary dataset have a label:
 * mask (n bytes, copied; 0 = unlabelled, NULL removes the mask). The label
 * stored for an unlabelled sample is kept but not read: its label term is
 * 0 in student and model steps and losses (it keeps its teacher term), and
 * evaluation skips it. Subsets, splits and shuffles carry the mask; a
 * dataset with a mask does not grow (lupi_dataset_append returns
 * LUPI_ENOTSUP), and setting regression targets removes it.
 * @return LUPI_OK; LUPI_EINVAL (ds NULL); LUPI_ESTATE (no class labels);
 *         LUPI_ENOTSUP (a dataset with a capacity); LUPI_ENOMEM.
 * @since 0.3
 */
LUPI_API int lupi_dataset_set_label_mask(lupi_dataset *ds,
					 const uint8_t *mask);
/**
 * The label mask (n bytes, borrowed, valid until ds is freed or changed),
 * or NULL when every sample is labelled or ds is NULL. @since 0.3
 */
LUPI_API const uint8_t *lupi_dataset_label_mask(const lupi_dataset *ds);
/**
 * Copies the parameters of src into dst, a model of the same shape (inputs,
 * layer widths, biases), as lupi_model_set_params() does: dst is then
 * initialised with src's weights (its options, optimiser state and
 * standardisation stay its own). Both models are borrowed.
 * @return LUPI_OK; LUPI_EINVAL (NULL); LUPI_ESTATE (src not initialised);
 *         LUPI_ESHAPE (the shapes differ, named in the message). @since 0.3
 */
LUPI_API int lupi_model_copy_params(lupi_model *dst, const lupi_model *src);
/**
 * Accuracy or log-loss (LUPI_METRIC_ACCURACY, LUPI_METRIC_LOGLOSS) of a
 * classification model over output columns cols[0..n_cols) (copied for
 * the call): class y of ds is output cols[y], the prediction is the argmax
 * over those columns and the probabilities a softmax over them only, so a
 * model with 13 outputs is evaluated on a 10-class task. Samples without a
 * needed X* or without a label (label mask) are skipped.
 * @return LUPI_OK; LUPI_EINVAL (NULL, unknown metric, fewer than 2 or more
 *         columns than outputs, a repeated column); LUPI_ENOTSUP (MSE or
 *         MAE, or a model or dataset that is not classification);
 *         LUPI_ESHAPE (ds has not n_cols classes, or its view does not fit
 *         the model); LUPI_ERANGE (a column >= outputs); LUPI_ESTATE (not
 *         initialised, or no sample to evaluate); LUPI_ENONFINITE naming
 *         the sample whose output is not finite; LUPI_ENOMEM. @since 0.3
 */
LUPI_API int lupi_model_evaluate_columns(const lupi_model *m,
					 const lupi_dataset *ds, int metric,
					 const size_t *cols, size_t n_cols,
					 double *value);

#ifdef __cplusplus
}
#endif
#endif /* LUPI_H */
