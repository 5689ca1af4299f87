/* Reading a whole data file into memory. zlib's gzread passes plain files
 * through unchanged, so one path serves gzip'd and plain files alike. */
#include <errno.h>
#include <string.h>
#include <zlib.h>

#include "data_internal.h"

/* First chunk; the buffer doubles from there, so memory follows the data
 * actually read (a gzip bomb stops at LUPI__MAX_FILE_BYTES). */
#define FIRST_CHUNK ((size_t)1 << 16)
/* gzread takes an unsigned count. */
#define MAX_READ ((size_t)1 << 30)

static int read_error(gzFile f, const char *path)
{
	int zerr = Z_OK;
	const char *msg = gzerror(f, &zerr);
	if (zerr == Z_ERRNO)
		return lupi__err(LUPI_EIO, "%s: %s", path, strerror(errno));
	return lupi__err(LUPI_EFORMAT, "%s: corrupt gzip data: %s", path, msg);
}

/* Doubles the buffer (keeping room for the final NUL), up to the bound. */
static int grow(unsigned char **buf, size_t *cap, const char *path)
{
	if (*cap >= LUPI__MAX_FILE_BYTES)
		return lupi__err(LUPI_EFORMAT, "%s: larger than %zu bytes",
				 path, LUPI__MAX_FILE_BYTES);
	size_t ncap = *cap ? 2 * *cap : FIRST_CHUNK;
	unsigned char *p = lupi__realloc(*buf, ncap + 1);
	if (p == NULL)
		return lupi__err(LUPI_ENOMEM, "%s: out of memory for %zu bytes",
				 path, ncap);
	*buf = p;
	*cap = ncap;
	return LUPI_OK;
}

static int read_all(gzFile f, const char *path, unsigned char **data,
		    size_t *len)
{
	unsigned char *buf = NULL;
	size_t cap = 0, used = 0;
	int rc = LUPI_OK, got;
	do {
		if (used == cap && (rc = grow(&buf, &cap, path)) != LUPI_OK)
			break;
		size_t want = cap - used < MAX_READ ? cap - used : MAX_READ;
		got = gzread(f, buf + used, (unsigned)want);
		if (got < 0)
			rc = read_error(f, path);
		else
			used += (size_t)got;
	} while (rc == LUPI_OK && got > 0);
	/* A gzip stream cut short ends like a file, with Z_BUF_ERROR. */
	int zerr = Z_OK;
	gzerror(f, &zerr);
	if (rc == LUPI_OK && zerr == Z_BUF_ERROR)
		rc = lupi__err(LUPI_EFORMAT, "%s: truncated gzip data", path);
	if (rc != LUPI_OK) {
		lupi__free(buf);
		return rc;
	}
	buf[used] = '\0';
	*data = buf;
	*len = used;
	return LUPI_OK;
}

int lupi__read_file(const char *path, unsigned char **data, size_t *len)
{
	*data = NULL;
	*len = 0;
	errno = 0;
	gzFile f = gzopen(path, "rb");
	if (f == NULL)
		return lupi__err(errno ? LUPI_EIO : LUPI_ENOMEM, "%s: %s", path,
				 errno ? strerror(errno) : "out of memory");
	int rc = read_all(f, path, data, len);
	gzclose_r(f);
	return rc;
}
