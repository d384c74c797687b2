/* fault-inject.c: an LD_PRELOAD library for the e2e fault tests
 * (test_faults.py). It wraps write(), pwrite() and pwrite64() and, as the
 * environment asks, makes them fail or kills the process mid-write:
 *
 *   LL_FAULT_FULL_UNDER=DIR  writes to files under DIR fail with ENOSPC once
 *   LL_FAULT_FULL_AFTER=N    N bytes were written there in all (a small disk;
 *                            0: full from the start)
 *   LL_FAULT_KILL_MATCH=S    the process sends itself SIGKILL in the middle of
 *   LL_FAULT_KILL_AFTER=N    a write to a file whose path contains S, once N
 *                            bytes were written to such files (half of that
 *                            write reaches the file first)
 *
 * Nothing else changes, so the program under test runs its real code. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
/* both pwrite and pwrite64 are wrapped: no renaming of one to the other */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

typedef ssize_t (*WriteFn)(int, const void *, size_t);
typedef ssize_t (*PwriteFn)(int, const void *, size_t, off64_t);

static long long full_written, kill_written;

/* The path of fd (a regular file), or "" */
static void fd_path(int fd, char *buf, size_t len)
{
  char link[64];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, buf, len - 1);
  buf[n > 0 ? n : 0] = '\0';
}

/* How many of n bytes may be written to fd (n: all; -1: fail with ENOSPC);
 * kills the process when asked to. */
static ssize_t allowed(int fd, size_t n)
{
  const char *under = getenv("LL_FAULT_FULL_UNDER"), *match = getenv("LL_FAULT_KILL_MATCH");
  if (!under && !match)
    return (ssize_t)n;
  char path[4096];
  fd_path(fd, path, sizeof path);
  if (match && *match && strstr(path, match)) {
    long long after = atoll(getenv("LL_FAULT_KILL_AFTER") ? getenv("LL_FAULT_KILL_AFTER") : "0");
    if (kill_written + (long long)n > after)
      return -2; /* the caller writes half, then dies */
    kill_written += (long long)n;
  }
  if (under && *under && !strncmp(path, under, strlen(under))) {
    long long budget = atoll(getenv("LL_FAULT_FULL_AFTER") ? getenv("LL_FAULT_FULL_AFTER") : "0");
    long long left = budget - full_written;
    if (left <= 0)
      return -1;
    if ((long long)n > left)
      n = (size_t)left; /* a short write, as a filling disk gives */
    full_written += (long long)n;
  }
  return (ssize_t)n;
}

static void die_after_half(int fd, const void *buf, size_t n, off64_t off, int positioned)
{
  static WriteFn real_write;
  static PwriteFn real_pwrite;
  if (!real_write)
    real_write = (WriteFn)dlsym(RTLD_NEXT, "write");
  if (!real_pwrite)
    real_pwrite = (PwriteFn)dlsym(RTLD_NEXT, "pwrite64");
  if (positioned)
    real_pwrite(fd, buf, n / 2, off);
  else
    real_write(fd, buf, n / 2);
  kill(getpid(), SIGKILL);
  pause();
}

ssize_t write(int fd, const void *buf, size_t n)
{
  static WriteFn real;
  if (!real)
    real = (WriteFn)dlsym(RTLD_NEXT, "write");
  ssize_t ok = allowed(fd, n);
  if (ok == -2)
    die_after_half(fd, buf, n, 0, 0);
  if (ok < 0) {
    errno = ENOSPC;
    return -1;
  }
  return real(fd, buf, (size_t)ok);
}

static ssize_t positioned_write(const char *name, int fd, const void *buf, size_t n, off64_t off)
{
  PwriteFn real = (PwriteFn)dlsym(RTLD_NEXT, name);
  ssize_t ok = allowed(fd, n);
  if (ok == -2)
    die_after_half(fd, buf, n, off, 1);
  if (ok < 0) {
    errno = ENOSPC;
    return -1;
  }
  return real(fd, buf, (size_t)ok, off);
}

ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
  return positioned_write("pwrite", fd, buf, n, off);
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
  return positioned_write("pwrite64", fd, buf, n, off);
}
