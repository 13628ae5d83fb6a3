//go:build linux && cgo

package privdrop

/*
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

// A request that every thread make one system call, each on itself.
struct nflogcap_req {
	long nr, a1, a2, a3;
	int done; // threads that made it
	int err;  // the first errno a thread got, 0 if none
};

// The handler runs on the signalled thread (on its signal stack, which
// every Go thread has) and makes the call there. It acts only on signals
// this process queued.
static void nflogcap_on_signal(int sig, siginfo_t *si, void *uc) {
	(void)sig;
	(void)uc;
	int saved = errno;
	struct nflogcap_req *r = si->si_value.sival_ptr;
	if (si->si_code == SI_QUEUE && si->si_pid == getpid() && r != NULL) {
		if (syscall(r->nr, r->a1, r->a2, r->a3, 0L, 0L, 0L) == -1) { // unused arguments 0, as prctl wants
			int zero = 0;
			__atomic_compare_exchange_n(&r->err, &zero, errno, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
		}
		__atomic_add_fetch(&r->done, 1, __ATOMIC_SEQ_CST);
	}
	errno = saved;
}

enum { nflogcap_max_threads = 4096 };

// nflogcap_all_threads has every thread of the process make the system call
// nr(a1, a2, a3): it queues signal sig to each thread listed in
// /proc/self/task, waits until each has made the call, and looks again
// until no thread is new (one started meanwhile by a thread not yet done).
// It returns 0, the first errno a thread got, or its own error: ETIMEDOUT
// when the threads did not all answer within 2 s, E2BIG past 4096 threads.
static int nflogcap_all_threads(int sig, long nr, long a1, long a2, long a3) {
	// On the heap: after a timeout a late handler may still use it, so it
	// is then left allocated.
	struct nflogcap_req *req = calloc(1, sizeof *req);
	pid_t *seen = calloc(nflogcap_max_threads, sizeof *seen);
	if (req == NULL || seen == NULL) {
		free(req);
		free(seen);
		return ENOMEM;
	}
	req->nr = nr;
	req->a1 = a1;
	req->a2 = a2;
	req->a3 = a3;
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = nflogcap_on_signal;
	sa.sa_flags = SA_SIGINFO | SA_RESTART | SA_ONSTACK;
	sigfillset(&sa.sa_mask);
	if (sigaction(sig, &sa, &old) != 0) {
		int rc = errno;
		free(req);
		free(seen);
		return rc;
	}
	pid_t pid = getpid();
	int nseen = 0, sent = 0, rc = 0, timedout = 0;
	for (int added = 1; added > 0 && rc == 0;) {
		added = 0;
		DIR *d = opendir("/proc/self/task");
		if (d == NULL) {
			rc = errno;
			break;
		}
		struct dirent *e;
		while (rc == 0 && (e = readdir(d)) != NULL) {
			pid_t tid = (pid_t)atoi(e->d_name);
			int known = tid <= 0;
			for (int i = 0; !known && i < nseen; i++) {
				known = seen[i] == tid;
			}
			if (known) {
				continue;
			}
			if (nseen == nflogcap_max_threads) {
				rc = E2BIG;
				break;
			}
			seen[nseen++] = tid;
			added++;
			siginfo_t si;
			memset(&si, 0, sizeof si);
			si.si_signo = sig;
			si.si_code = SI_QUEUE;
			si.si_pid = pid;
			si.si_uid = getuid();
			si.si_value.sival_ptr = req;
			if (syscall(SYS_rt_tgsigqueueinfo, pid, tid, sig, &si) == 0) {
				sent++;
			} else if (errno != ESRCH) { // ESRCH: the thread has ended
				rc = errno;
			}
		}
		closedir(d);
		// Wait for every thread signalled so far, also after an error.
		struct timespec pause = {0, 100000}; // 0.1 ms
		for (int i = 0; __atomic_load_n(&req->done, __ATOMIC_SEQ_CST) < sent; i++) {
			if (i == 20000) {
				timedout = 1;
				break;
			}
			nanosleep(&pause, NULL);
		}
		if (timedout) {
			rc = ETIMEDOUT;
		}
	}
	sigaction(sig, &old, NULL);
	if (rc == 0) {
		rc = __atomic_load_n(&req->err, __ATOMIC_SEQ_CST);
	}
	free(seen);
	if (!timedout) {
		free(req);
	}
	return rc;
}

static int nflogcap_signal(void) { return SIGRTMIN + 7; }
*/
import "C"

import (
	"os"
	"os/signal"
	"syscall"
)

// cgoAllThreads makes the system call trap on every thread of the process,
// in a program that links cgo, where syscall.AllThreadsSyscall cannot (the
// runtime does not know threads C code may have made). Each thread gets a
// real-time signal whose handler, installed for the time of the call, makes
// the call on that thread, as libpsx does; see nflogcap_all_threads.
func cgoAllThreads(trap, a1, a2, a3 uintptr) error {
	sig := C.nflogcap_signal()
	// The thread os/signal keeps for itself blocks every signal no Notify
	// asks for: asking for this one unblocks it there. The handler that
	// Notify installs is replaced for the time of the call, then restored.
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.Signal(sig))
	defer signal.Stop(ch)
	if rc := C.nflogcap_all_threads(sig, C.long(trap), C.long(a1), C.long(a2), C.long(a3)); rc != 0 {
		return syscall.Errno(rc)
	}
	return nil
}
