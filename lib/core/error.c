/* Status codes, their texts and the thread's last error message; the
 * switch of the self-checks for internal errors (LUPI_CHECK_INVARIANTS). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core_internal.h"

/* The one piece of hidden state in the library, by design (STYLE.md). */
static _Thread_local char errmsg[512];

const char *lupi_strerror(int code)
{
	switch (code) {
	case LUPI_OK: return "success";
	case LUPI_EINVAL: return "invalid argument";
	case LUPI_ENOMEM: return "out of memory";
	case LUPI_EIO: return "input/output error";
	case LUPI_EFORMAT: return "malformed file";
	case LUPI_EVERSION: return "unsupported file version";
	case LUPI_ECHECKSUM: return "checksum mismatch";
	case LUPI_ERANGE: return "value out of range";
	case LUPI_EUNKNOWN_OPTION: return "unknown option";
	case LUPI_ESHAPE: return "shape mismatch";
	case LUPI_ENONFINITE: return "non-finite value";
	case LUPI_ESTATE: return "object not ready for this call";
	case LUPI_ENOTSUP: return "not supported";
	case LUPI_EMISMATCH: return "object belongs to another dataset";
	case LUPI_ECANCELLED: return "cancelled";
	default: return "unknown error";
	}
}

const char *lupi_errname(int code)
{
	switch (code) {
	case LUPI_OK: return "LUPI_OK";
	case LUPI_EINVAL: return "LUPI_EINVAL";
	case LUPI_ENOMEM: return "LUPI_ENOMEM";
	case LUPI_EIO: return "LUPI_EIO";
	case LUPI_EFORMAT: return "LUPI_EFORMAT";
	case LUPI_EVERSION: return "LUPI_EVERSION";
	case LUPI_ECHECKSUM: return "LUPI_ECHECKSUM";
	case LUPI_ERANGE: return "LUPI_ERANGE";
	case LUPI_EUNKNOWN_OPTION: return "LUPI_EUNKNOWN_OPTION";
	case LUPI_ESHAPE: return "LUPI_ESHAPE";
	case LUPI_ENONFINITE: return "LUPI_ENONFINITE";
	case LUPI_ESTATE: return "LUPI_ESTATE";
	case LUPI_ENOTSUP: return "LUPI_ENOTSUP";
	case LUPI_EMISMATCH: return "LUPI_EMISMATCH";
	case LUPI_ECANCELLED: return "LUPI_ECANCELLED";
	default: return NULL;
	}
}

const char *lupi_errmsg(void)
{
	return errmsg;
}

int lupi__err(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(errmsg, sizeof errmsg, fmt, ap);
	va_end(ap);
	return code;
}

int lupi__err_prefix(int code, const char *prefix)
{
	/* Truncation is fine here: the message stays a valid prefix. */
	size_t len = strlen(prefix);
	if (len > sizeof errmsg - 3)
		len = sizeof errmsg - 3;
	memmove(errmsg + len + 2, errmsg, sizeof errmsg - len - 2);
	errmsg[sizeof errmsg - 1] = '\0';
	memcpy(errmsg, prefix, len);
	errmsg[len] = ':';
	errmsg[len + 1] = ' ';
	return code;
}

static int invariants; /* set by read_invariants() before any read */
static pthread_once_t invariants_once = PTHREAD_ONCE_INIT;

static void read_invariants(void)
{
	const char *v = getenv("LUPI_CHECK_INVARIANTS");
	invariants = v != NULL && strcmp(v, "1") == 0;
}

int lupi__check_invariants(void)
{
	pthread_once(&invariants_once, read_invariants);
	return invariants;
}
