/* The wrapped calls of th_syscount.h: each counts, then makes the real call. */
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "th_syscount.h"

int th_n_fchmod, th_n_mkdir, th_n_getpid;

void th_syscount_reset(void)
{
    __atomic_store_n(&th_n_fchmod, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&th_n_mkdir, 0, __ATOMIC_SEQ_CST);
    __atomic_store_n(&th_n_getpid, 0, __ATOMIC_SEQ_CST);
}

int __real_fchmod(int fd, mode_t m);
int __wrap_fchmod(int fd, mode_t m);
int __wrap_fchmod(int fd, mode_t m)
{
    __atomic_add_fetch(&th_n_fchmod, 1, __ATOMIC_SEQ_CST);
    return __real_fchmod(fd, m);
}

int __real_mkdir(const char *p, mode_t m);
int __wrap_mkdir(const char *p, mode_t m);
int __wrap_mkdir(const char *p, mode_t m)
{
    __atomic_add_fetch(&th_n_mkdir, 1, __ATOMIC_SEQ_CST);
    return __real_mkdir(p, m);
}

pid_t __real_getpid(void);
pid_t __wrap_getpid(void);
pid_t __wrap_getpid(void)
{
    __atomic_add_fetch(&th_n_getpid, 1, __ATOMIC_SEQ_CST);
    return __real_getpid();
}
