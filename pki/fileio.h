/*
 * fileio — the durable-write steps shared by the files the certificate
 * office writes (key files, CRLs): write everything, fsync the file, fsync
 * the directory that holds it.  Each returns 0, or -1 with errno set; the
 * caller words the error message.
 */
#ifndef PROVD_FILEIO_H
#define PROVD_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* Write p[0..len) to fd, retrying short writes and EINTR. */
int fileio_write_all(int fd, const void *p, size_t len);

/* Give fd the permission bits mode, write data[0..len) to it and fsync
 * it.  fd stays open. */
int fileio_write_synced(int fd, mode_t mode, const void *data, size_t len);

/* The directory part of path into out: "." for a bare name, "/" for a
 * name in the root.  -1 (ENAMETOOLONG) when it does not fit in outsz. */
int fileio_parent_dir(const char *path, char *out, size_t outsz);

/* Open the directory dir and fsync it, so that a file created or renamed
 * in it survives a crash. */
int fileio_fsync_dir(const char *dir);

/* Create path, which must not exist (not even as a dangling symbolic
 * link: it is never followed), holding data[0..len) with the permission
 * bits mode: written and fsynced under a temporary name beside it (made
 * with O_EXCL), then linked to path, so that path appears whole or not at
 * all; the directory is fsynced.  0, or -1 with errno (EEXIST: path was
 * there) and nothing left behind. */
int fileio_create_new(const char *path, mode_t mode, const void *data, size_t len);

#endif
