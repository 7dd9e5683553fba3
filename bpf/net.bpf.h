/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * net.bpf.h: network activity on syscall tracepoints: connect, accept/accept4, bind,
 * listen, for IPv4, IPv6 and unix sockets.
 *
 * Failures: connect, bind and listen are reported whether they succeed or not (a
 * refused connection or a port already taken is worth seeing); a failed accept is not
 * (EAGAIN on non-blocking sockets is constant noise). A non-blocking connect under way
 * (EINPROGRESS) counts as success (result 0).
 */
#ifndef RF_NET_BPF_H
#define RF_NET_BPF_H

#define RF_AF_UNIX  1
#define RF_AF_INET  2
#define RF_AF_INET6 10
#define RF_EINPROGRESS 115

/* all four network classes share one layout */
_Static_assert(sizeof(struct rf_ev_net_connect) == sizeof(struct rf_ev_net_accept), "net layouts");
_Static_assert(sizeof(struct rf_ev_net_connect) == sizeof(struct rf_ev_net_bind), "net layouts");
_Static_assert(sizeof(struct rf_ev_net_connect) == sizeof(struct rf_ev_net_listen), "net layouts");
_Static_assert(__builtin_offsetof(struct rf_ev_net_connect, unix_path) ==
	       __builtin_offsetof(struct rf_ev_net_listen, unix_path), "net layouts");

static __always_inline void v4_mapped(__u8 *dst, __u32 addr)
{
	__builtin_memset(dst, 0, 10);
	dst[10] = 0xff;
	dst[11] = 0xff;
	__builtin_memcpy(dst + 12, &addr, 4);
}

/* The socket behind fd, or NULL when fd is not a socket. */
static __always_inline struct sock *fd_sock(long fd)
{
	struct file *f = fd_file(fd);
	struct socket *so;

	if (!f || (BPF_CORE_READ(f, f_inode, i_mode) & RF_S_IFMT) != 0140000 /* S_IFSOCK */)
		return NULL;
	so = BPF_CORE_READ(f, private_data);
	return BPF_CORE_READ(so, sk);
}

/* Local (and, with peer, remote) address of a socket into the event. */
static __always_inline void sock_addrs(struct rf_ev_net_connect *ev, struct sock *sk, bool peer)
{
	__u16 fam = BPF_CORE_READ(sk, __sk_common.skc_family);

	ev->family = fam;
	ev->protocol = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
	ev->sport = BPF_CORE_READ(sk, __sk_common.skc_num);
	if (fam == RF_AF_INET) {
		v4_mapped(ev->saddr, BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr));
		if (peer)
			v4_mapped(ev->daddr, BPF_CORE_READ(sk, __sk_common.skc_daddr));
	} else if (fam == RF_AF_INET6) {
		BPF_CORE_READ_INTO(&ev->saddr, sk, __sk_common.skc_v6_rcv_saddr);
		if (peer)
			BPF_CORE_READ_INTO(&ev->daddr, sk, __sk_common.skc_v6_daddr);
	}
	if (peer)
		ev->dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (fam == RF_AF_UNIX)
		ev->protocol = 0;
}

/* fd_sock and the local address with plain loads (kernel 6.2+, bpf_rdonly_cast): the
 * plain-load build of the connect program (rfb_exit_connect). */
static __always_inline struct sock *fd_sock_btf(long fd)
{
	struct file *f = fd_file_btf(fd);
	struct socket *so;

	if (!f)
		return NULL;
	f = bpf_rdonly_cast(f, bpf_core_type_id_kernel(struct file));
	if ((f->f_inode->i_mode & RF_S_IFMT) != 0140000 /* S_IFSOCK */)
		return NULL;
	so = bpf_rdonly_cast(f->private_data, bpf_core_type_id_kernel(struct socket));
	return bpf_rdonly_cast(so->sk, bpf_core_type_id_kernel(struct sock));
}

static __always_inline void sock_local_btf(struct rf_ev_net_connect *ev, struct sock *sk)
{
	__u16 fam = sk->__sk_common.skc_family;

	ev->family = fam;
	ev->protocol = sk->sk_protocol;
	ev->sport = sk->__sk_common.skc_num;
	if (fam == RF_AF_INET) {
		v4_mapped(ev->saddr, sk->__sk_common.skc_rcv_saddr);
	} else if (fam == RF_AF_INET6) {
		__u64 lo = *(__u64 *)&sk->__sk_common.skc_v6_rcv_saddr;
		__u64 hi = *((__u64 *)&sk->__sk_common.skc_v6_rcv_saddr + 1);
		__builtin_memcpy(ev->saddr, &lo, 8);
		__builtin_memcpy(ev->saddr + 8, &hi, 8);
	}
	if (fam == RF_AF_UNIX)
		ev->protocol = 0;
}

/* An address given by the user (connect, bind): family, port, address, unix path.
 * Returns false for families we do not report. */
static __always_inline bool user_addr(char *buf, __u32 *off, struct rf_ev_net_connect *ev,
				      const void *uaddr, __u32 ulen, bool remote)
{
	/* family, port and IPv4 address are the first 8 bytes of every inet sockaddr:
	 * one read (a second for an IPv6 address) */
	struct {
		__u16 fam, port;
		__u32 v4;
	} h = {};
	__u16 fam = 0, port = 0;
	__u8 *a = remote ? ev->daddr : ev->saddr;

	if (!uaddr)
		return false;
	if ((ulen < 8 || bpf_probe_read_user(&h, 8, uaddr)) && bpf_probe_read_user(&h.fam, 2, uaddr))
		return false;
	fam = h.fam;
	ev->family = fam;
	if (fam == RF_AF_INET && ulen >= 16) {
		port = h.port;
		v4_mapped(a, h.v4);
	} else if (fam == RF_AF_INET6 && ulen >= 24) {
		port = h.port;
		bpf_probe_read_user(a, 16, uaddr + 8);
	} else if (fam == RF_AF_UNIX) {
		__u32 o = *off;
		long n;
		char c = 0;
		if (o > RF_BPF_EVENT_BUF - 128 || ulen <= 2)
			return true;
		bpf_probe_read_user(&c, 1, uaddr + 2);
		if (c) {
			n = bpf_probe_read_user_str(buf + o, 108, uaddr + 2);
		} else { /* abstract: "@" and the name (up to addrlen) */
			__u32 nl = ulen - 3;
			buf[o] = '@';
			if (nl > 106)
				nl = 106;
			barrier_var(nl);
			n = 0;
			if (nl && !bpf_probe_read_user(buf + o + 1, nl & 127, uaddr + 3))
				n = nl + 1;
			buf[(o + 1 + (nl & 127)) & (RF_BPF_EVENT_BUF - 1)] = 0;
			n = n ? n + 1 : 2;
		}
		if (n > 1) {
			ev->unix_path.off = o;
			ev->unix_path.len = n - 1;
			*off = o + n;
		}
		return true;
	} else {
		return false;
	}
	if (remote)
		ev->dport = bpf_ntohs(port);
	else
		ev->sport = bpf_ntohs(port);
	return true;
}

/* connect, bind and listen take their arguments from the saved registers at sys_exit
 * (sys_args): no sys_enter program, no per-thread map entry */

/* btf (a constant): the socket read with plain loads (rfb_exit_connect, kernel 6.2+),
 * else with bpf_probe_read_kernel (rf_exit_connect); the loader loads one
 * (rf_sensor_btf_walk in sensor.c). Same event. */
static __always_inline int connect_exit(long ret, bool btf)
{
	struct rf_ev_net_connect *ev;
	struct rf_sysargs st;
	struct sock *sk;
	__u32 off = sizeof(*ev);
	char *buf;

	if (!class_on(RF_CLASS_NET_CONNECT) || excluded())
		return 0;
	sys_args(&st, 3);
	buf = event_start(ev);
	if (!buf)
		return 0;
	ev->result = ret == -RF_EINPROGRESS ? 0 : (__s32)ret;
	ev->initiated = 1;
	/* local side from the socket; the remote from the arguments */
	if (btf) {
		sk = fd_sock_btf((long)st.a[0]);
		if (sk)
			sock_local_btf(ev, sk);
	} else {
		sk = fd_sock((long)st.a[0]);
		if (sk)
			sock_addrs(ev, sk, false);
	}
	if (!user_addr(buf, &off, ev, (const void *)st.a[1], (__u32)st.a[2], true))
		return 0;
	submit(buf, off, RF_CLASS_NET_CONNECT, false);
	return 0;
}

SEC("tp/syscalls/sys_exit_connect")
int rf_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	return connect_exit(ctx->ret, false);
}
SEC("tp/syscalls/sys_exit_connect")
int rfb_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	return connect_exit(ctx->ret, true);
}

SEC("tp/syscalls/sys_exit_bind")
int rf_exit_bind(struct trace_event_raw_sys_exit *ctx)
{
	struct rf_ev_net_bind *ev;
	struct rf_sysargs st;
	struct sock *sk;
	__u32 off = sizeof(*ev);
	char *buf;

	if (!class_on(RF_CLASS_NET_BIND) || excluded())
		return 0;
	sys_args(&st, 3);
	buf = event_start(ev);
	if (!buf)
		return 0;
	ev->result = (__s32)ctx->ret;
	sk = fd_sock((long)st.a[0]);
	if (sk)
		ev->protocol = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
	if (!user_addr(buf, &off, (struct rf_ev_net_connect *)ev, (const void *)st.a[1],
		       (__u32)st.a[2], false))
		return 0;
	if (ev->family == RF_AF_UNIX)
		ev->protocol = 0;
	submit(buf, off, RF_CLASS_NET_BIND, false);
	return 0;
}

SEC("tp/syscalls/sys_exit_listen")
int rf_exit_listen(struct trace_event_raw_sys_exit *ctx)
{
	struct rf_ev_net_listen *ev;
	struct rf_sysargs st;
	struct sock *sk;
	__u32 off = sizeof(*ev);
	char *buf;

	if (!class_on(RF_CLASS_NET_LISTEN) || excluded())
		return 0;
	sys_args(&st, 1);
	sk = fd_sock((long)st.a[0]);
	if (!sk)
		return 0;
	buf = event_start(ev);
	if (!buf)
		return 0;
	ev->result = (__s32)ctx->ret;
	sock_addrs((struct rf_ev_net_connect *)ev, sk, false);
	if (ev->family != RF_AF_INET && ev->family != RF_AF_INET6 && ev->family != RF_AF_UNIX)
		return 0;
	submit(buf, off, RF_CLASS_NET_LISTEN, false);
	return 0;
}

static __always_inline int accept_exit(long ret)
{
	struct rf_ev_net_accept *ev;
	struct sock *sk;
	char *buf;

	if (ret < 0 || !class_on(RF_CLASS_NET_ACCEPT) || excluded())
		return 0;
	sk = fd_sock(ret);
	if (!sk)
		return 0;
	buf = event_start(ev);
	if (!buf)
		return 0;
	sock_addrs((struct rf_ev_net_connect *)ev, sk, true);
	if (ev->family != RF_AF_INET && ev->family != RF_AF_INET6 && ev->family != RF_AF_UNIX)
		return 0;
	submit(buf, sizeof(*ev), RF_CLASS_NET_ACCEPT, false);
	return 0;
}

SEC("tp/syscalls/sys_exit_accept")
int rf_exit_accept(struct trace_event_raw_sys_exit *ctx) { return accept_exit(ctx->ret); }
SEC("tp/syscalls/sys_exit_accept4")
int rf_exit_accept4(struct trace_event_raw_sys_exit *ctx) { return accept_exit(ctx->ret); }

#endif
