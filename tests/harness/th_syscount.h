/* Counts of fchmod, mkdir and getpid calls, for tests that count what a
 * write costs instead of timing it. Link harness_syscount_dep and wrap the
 * calls: -Wl,--wrap=fchmod -Wl,--wrap=mkdir -Wl,--wrap=getpid. */
#ifndef WB_TH_SYSCOUNT_H
#define WB_TH_SYSCOUNT_H

extern int th_n_fchmod, th_n_mkdir, th_n_getpid;

/* All three back to 0. */
void th_syscount_reset(void);

#endif
