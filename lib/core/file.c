/* Whole-file reads and atomic writes: the I/O plumbing of the data loaders
 * and of model files. zlib's gzread passes plain files
 * through unchanged, so one path serves gzip'd and plain files alike. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core_internal.h"

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

/* ---- atomic writes and plain whole-file reads --------------------------- */

static int fail_next = LUPI__IO_FAIL_NONE;

void lupi__io_set_fail(int which)
{
	fail_next = which;
}

/* 1 when the test hook says this call fails; sets errno like the system. */
static int injected(int which, int err)
{
	if (fail_next != which)
		return 0;
	fail_next = LUPI__IO_FAIL_NONE;
	errno = err;
	return 1;
}

static int io_err(const char *path, const char *what, int err)
{
	return lupi__err(LUPI_EIO, "%s: %s: %s", path, what, strerror(err));
}

static int write_all(int fd, const unsigned char *p, size_t n)
{
	while (n > 0) {
		if (injected(LUPI__IO_FAIL_WRITE, ENOSPC))
			return -1;
		ssize_t k = write(fd, p, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

static int sync_fd(int fd)
{
	if (injected(LUPI__IO_FAIL_FSYNC, EIO))
		return -1;
	return fsync(fd);
}

static int rename_file(const char *from, const char *to)
{
	if (injected(LUPI__IO_FAIL_RENAME, EACCES))
		return -1;
	return rename(from, to);
}

/* The directory part of path into dir (room for strlen(path) + 2). */
static void dir_of(const char *path, char *dir)
{
	const char *slash = strrchr(path, '/');
	if (slash == NULL) {
		strcpy(dir, ".");
	} else if (slash == path) {
		strcpy(dir, "/");
	} else {
		memcpy(dir, path, (size_t)(slash - path));
		dir[slash - path] = '\0';
	}
}

/* Makes the rename durable. File systems that cannot sync a directory
 * report EINVAL; that is not a failure of the save. */
static int sync_dir(const char *path, const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return io_err(path, "saved, but cannot open its directory",
			      errno);
	int rc = LUPI_OK;
	if (fsync(fd) != 0 && errno != EINVAL)
		rc = io_err(path, "saved, but cannot sync its directory",
			    errno);
	close(fd);
	return rc;
}

/* Where a save writes: path itself, or for a symbolic link the file it
 * finally names (realpath), so that the rename replaces that file and the
 * link stays a link. The temporary file goes next to it, as rename() works
 * within one file system only. What is not a regular file (a device, a
 * FIFO, a directory; also a link to one) is refused rather than unlinked,
 * and so is a file the caller may not write: rename() needs write
 * permission on the directory only, so it would replace a read-only file.
 * root passes access(W_OK) for any file, so a file without any write bit
 * is refused too. *mode is the permissions the new file gets. */
static int save_target(const char *path, char **target, mode_t *mode)
{
	*target = NULL;
	*mode = 0644;
	struct stat st;
	if (lstat(path, &st) != 0) {
		if (errno == ENOENT)
			return LUPI_OK; /* created */
		return io_err(path, "cannot stat", errno);
	}
	int link = S_ISLNK(st.st_mode);
	if (link && stat(path, &st) != 0)
		return io_err(path, "cannot follow the symbolic link", errno);
	if (!S_ISREG(st.st_mode))
		return lupi__err(LUPI_EIO, "%s: not a regular file", path);
	if (access(path, W_OK) != 0 ||
	    (st.st_mode & (S_IWUSR | S_IWGRP | S_IWOTH)) == 0)
		return lupi__err(LUPI_EIO, "%s: permission denied", path);
	*mode = st.st_mode & 07777;
	if (!link)
		return LUPI_OK;
	char *real = lupi__malloc(PATH_MAX);
	if (real == NULL)
		return lupi__err(LUPI_ENOMEM, "%s: out of memory", path);
	if (realpath(path, real) == NULL) {
		int err = errno;
		lupi__free(real);
		return io_err(path, "cannot follow the symbolic link", err);
	}
	*target = real;
	return LUPI_OK;
}

static int write_temp(int fd, const char *path, mode_t mode,
		      const unsigned char *buf, size_t size)
{
	if (write_all(fd, buf, size) != 0)
		return io_err(path, "cannot write", errno);
	if (fchmod(fd, mode) != 0)
		return io_err(path, "cannot set permissions", errno);
	if (sync_fd(fd) != 0)
		return io_err(path, "cannot sync", errno);
	return LUPI_OK;
}

/* Messages name path, the caller's name; the file written is target. */
static int write_to(const char *path, const char *target, mode_t mode,
		    const unsigned char *buf, size_t size)
{
	static const char suffix[] = ".XXXXXX";
	size_t len = strlen(target);
	/* One allocation holds "<target>.XXXXXX" and the directory name, so
	 * that nothing can run out of memory once the file is renamed. */
	char *tmp = lupi__malloc(2 * len + sizeof suffix + 2);
	if (tmp == NULL)
		return lupi__err(LUPI_ENOMEM, "%s: out of memory", path);
	char *dir = tmp + len + sizeof suffix;
	memcpy(tmp, target, len);
	memcpy(tmp + len, suffix, sizeof suffix);
	dir_of(target, dir);
	int rc = LUPI_OK, fd = mkstemp(tmp);
	if (fd < 0) {
		rc = io_err(path, "cannot create a temporary file", errno);
		lupi__free(tmp);
		return rc;
	}
	rc = write_temp(fd, path, mode, buf, size);
	if (close(fd) != 0 && rc == LUPI_OK)
		rc = io_err(path, "cannot close", errno);
	if (rc == LUPI_OK && rename_file(tmp, target) != 0)
		rc = io_err(path, "cannot replace", errno);
	if (rc != LUPI_OK)
		unlink(tmp);
	else
		rc = sync_dir(path, dir);
	lupi__free(tmp);
	return rc;
}

int lupi__write_atomic(const char *path, const unsigned char *buf,
		       size_t size)
{
	char *target;
	mode_t mode;
	LUPI__TRY(save_target(path, &target, &mode));
	int rc = write_to(path, target ? target : path, mode, buf, size);
	lupi__free(target);
	return rc;
}

/* The whole file in one buffer of its own size. */
int lupi__read_whole(const char *path, unsigned char **buf, size_t *size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return io_err(path, "cannot open", errno);
	struct stat st;
	int rc = LUPI_OK;
	if (fstat(fd, &st) != 0)
		rc = io_err(path, "cannot stat", errno);
	else if (!S_ISREG(st.st_mode))
		rc = lupi__err(LUPI_EIO, "%s: not a regular file", path);
	else if ((uintmax_t)st.st_size > SIZE_MAX)
		rc = lupi__err(LUPI_EFORMAT, "%s: too large", path);
	unsigned char *p = NULL;
	size_t n = rc == LUPI_OK ? (size_t)st.st_size : 0, got = 0;
	if (rc == LUPI_OK && (p = lupi__malloc(n)) == NULL)
		rc = lupi__err(LUPI_ENOMEM, "%s: cannot allocate %zu bytes",
			       path, n);
	while (rc == LUPI_OK && got < n) {
		ssize_t k = read(fd, p + got, n - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			rc = io_err(path, "cannot read", errno);
		else if (k == 0)
			rc = lupi__err(LUPI_EIO, "%s: the file shrank while "
				       "being read", path);
		else
			got += (size_t)k;
	}
	close(fd);
	if (rc != LUPI_OK) {
		lupi__free(p);
		return rc;
	}
	*buf = p;
	*size = n;
	return LUPI_OK;
}

