/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* tamper.bpf.h: credential, ptrace, module, bpf, memfd, mount, signal and
 * executable-memory programs (issue 3). */
