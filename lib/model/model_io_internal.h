/* Test hooks of model_io.c. Not installed; only the unit tests use them. */
#ifndef LUPI_MODEL_IO_INTERNAL_H
#define LUPI_MODEL_IO_INTERNAL_H

/* Which system call of the next lupi_model_save() fails (once). */
#define LUPI__IO_FAIL_NONE 0
#define LUPI__IO_FAIL_WRITE 1  /* write() of the temporary file: ENOSPC */
#define LUPI__IO_FAIL_FSYNC 2  /* fsync() of the temporary file: EIO */
#define LUPI__IO_FAIL_RENAME 3 /* rename() over the target: EACCES */

/* Makes the next call of that kind fail as if the system had refused it;
 * the hook then resets itself to NONE. Process-wide, not thread-safe:
 * tests only. */
void lupi__io_set_fail(int which);

#endif
