/* Internal API of lib/control (online imitation and random network
 * distillation), shared by its files and the tests. Not installed. */
#ifndef LUPI_CONTROL_INTERNAL_H
#define LUPI_CONTROL_INTERNAL_H

#include "../train/train_internal.h"

/* Running mean and (population) variance merged batch by batch (Chan,
 * Golub & LeVeque 1979), started as OpenAI's RunningMeanStd is in the RND
 * code (Burda et al. 2019): count 1e-4, mean 0, variance 1. */
#define LUPI__RMS_PRIOR_COUNT 1e-4

typedef struct lupi__rms {
	double count;
	double *mean, *var; /* dim each */
	size_t dim;
} lupi__rms;

/* Merges a batch with per-feature mean bm and variance bv over bc rows. */
void lupi__rms_merge(lupi__rms *s, const double *bm, const double *bv,
		     double bc);

struct lupi_rnd {
	size_t d;          /* observation width */
	double gamma;      /* discount of the intrinsic-return filter */
	lupi__rms obs;     /* observations, d features */
	lupi__rms ret;     /* discounted intrinsic returns, 1 feature; its
	                      mean and var point at ret_mean and ret_var */
	double ret_mean, ret_var;
	double ret_acc;    /* the filter's running discounted return */
	int ret_started;   /* 0 until the first reward */
};

#endif
