using System.Runtime.InteropServices;
using Moat.Interop;
using Moat.Runtime.Seccomp;
using Moat.Tests.Unit.Native;
using Xunit;

namespace Moat.Tests.Unit.Seccomp;

/// <summary>
/// The structures and constants the seccomp code declares by hand, checked against the system
/// headers: a C program compiled with the system compiler (the one that builds native/spawn.c)
/// prints them, and each must equal the C# value.
/// </summary>
public sealed unsafe class SeccompLayoutTests
{
    const string Program = """
        #define _GNU_SOURCE
        #include <stdio.h>
        #include <stddef.h>
        #include <errno.h>
        #include <sys/socket.h>
        #include <sys/syscall.h>
        #include <sys/un.h>
        #include <sys/uio.h>
        #include <linux/filter.h>
        #include <linux/seccomp.h>
        #include <linux/audit.h>
        #include <seccomp.h>
        #define P(name, value) printf("%s=%lld\n", name, (long long)(value))
        int main(void) {
          P("sizeof(scmp_arg_cmp)", sizeof(struct scmp_arg_cmp));
          P("offsetof(scmp_arg_cmp.op)", offsetof(struct scmp_arg_cmp, op));
          P("offsetof(scmp_arg_cmp.datum_a)", offsetof(struct scmp_arg_cmp, datum_a));
          P("offsetof(scmp_arg_cmp.datum_b)", offsetof(struct scmp_arg_cmp, datum_b));
          P("sizeof(sock_filter)", sizeof(struct sock_filter));
          P("sizeof(sock_fprog)", sizeof(struct sock_fprog));
          P("offsetof(sock_fprog.filter)", offsetof(struct sock_fprog, filter));
          P("sizeof(seccomp_data)", sizeof(struct seccomp_data));
          P("offsetof(seccomp_data.arch)", offsetof(struct seccomp_data, arch));
          P("offsetof(seccomp_data.args)", offsetof(struct seccomp_data, args));
          P("sizeof(msghdr)", sizeof(struct msghdr));
          P("offsetof(msghdr.msg_iov)", offsetof(struct msghdr, msg_iov));
          P("offsetof(msghdr.msg_control)", offsetof(struct msghdr, msg_control));
          P("offsetof(msghdr.msg_controllen)", offsetof(struct msghdr, msg_controllen));
          P("offsetof(msghdr.msg_flags)", offsetof(struct msghdr, msg_flags));
          P("sizeof(iovec)", sizeof(struct iovec));
          P("CMSG_SPACE(int)", CMSG_SPACE(sizeof(int)));
          P("CMSG_LEN(int)", CMSG_LEN(sizeof(int)));
          P("sizeof(sun_path)", sizeof(((struct sockaddr_un *)0)->sun_path));
          P("SOL_SOCKET", SOL_SOCKET);
          P("SCM_RIGHTS", SCM_RIGHTS);
          P("MSG_NOSIGNAL", MSG_NOSIGNAL);
          P("SYS_seccomp", SYS_seccomp);
          P("SECCOMP_SET_MODE_FILTER", SECCOMP_SET_MODE_FILTER);
          P("SECCOMP_FILTER_FLAG_TSYNC", SECCOMP_FILTER_FLAG_TSYNC);
          P("SECCOMP_FILTER_FLAG_LOG", SECCOMP_FILTER_FLAG_LOG);
          P("SECCOMP_FILTER_FLAG_SPEC_ALLOW", SECCOMP_FILTER_FLAG_SPEC_ALLOW);
          P("SECCOMP_FILTER_FLAG_NEW_LISTENER", SECCOMP_FILTER_FLAG_NEW_LISTENER);
          P("SECCOMP_FILTER_FLAG_TSYNC_ESRCH", SECCOMP_FILTER_FLAG_TSYNC_ESRCH);
          P("SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", 1UL << 5);
          P("SECCOMP_RET_KILL_PROCESS", SECCOMP_RET_KILL_PROCESS);
          P("SECCOMP_RET_KILL_THREAD", SECCOMP_RET_KILL_THREAD);
          P("SECCOMP_RET_TRAP", SECCOMP_RET_TRAP);
          P("SECCOMP_RET_ERRNO", SECCOMP_RET_ERRNO);
          P("SECCOMP_RET_USER_NOTIF", SECCOMP_RET_USER_NOTIF);
          P("SECCOMP_RET_TRACE", SECCOMP_RET_TRACE);
          P("SECCOMP_RET_LOG", SECCOMP_RET_LOG);
          P("SECCOMP_RET_ALLOW", SECCOMP_RET_ALLOW);
          P("SCMP_ACT_KILL_PROCESS", SCMP_ACT_KILL_PROCESS);
          P("SCMP_ACT_NOTIFY", SCMP_ACT_NOTIFY);
          P("SCMP_ACT_ERRNO(0)", SCMP_ACT_ERRNO(0));
          P("SCMP_ACT_TRACE(0)", SCMP_ACT_TRACE(0));
          P("SCMP_ACT_LOG", SCMP_ACT_LOG);
          P("SCMP_ACT_ALLOW", SCMP_ACT_ALLOW);
          P("SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ);
          P("SCMP_FLTATR_CTL_NNP", SCMP_FLTATR_CTL_NNP);
          P("SCMP_FLTATR_CTL_OPTIMIZE", SCMP_FLTATR_CTL_OPTIMIZE);
          P("SCMP_FLTATR_API_SYSRAWRC", SCMP_FLTATR_API_SYSRAWRC);
          P("SCMP_ARCH_X32", SCMP_ARCH_X32);
          P("AUDIT_ARCH_X86_64", AUDIT_ARCH_X86_64);
          P("AUDIT_ARCH_I386", AUDIT_ARCH_I386);
          P("AUDIT_ARCH_S390X", AUDIT_ARCH_S390X);
          P("BPF_MAXINSNS", BPF_MAXINSNS);
          P("ENOSYS", ENOSYS);
          return 0;
        }
        """;

    [Fact]
    public void DeclarationsMatchTheSystemHeaders()
    {
        var c = CProbe.Values(Program);

        var expected = new Dictionary<string, long>
        {
            ["sizeof(scmp_arg_cmp)"] = sizeof(Libseccomp.ArgCmp),
            ["offsetof(scmp_arg_cmp.op)"] = 4,
            ["offsetof(scmp_arg_cmp.datum_a)"] = 8,
            ["offsetof(scmp_arg_cmp.datum_b)"] = 16,
            ["sizeof(sock_filter)"] = sizeof(BpfInstruction),
            ["sizeof(sock_fprog)"] = sizeof(Libc.SockFprog),
            ["offsetof(sock_fprog.filter)"] = 8,
            ["sizeof(seccomp_data)"] = Bpf.DataSize,
            ["offsetof(seccomp_data.arch)"] = Bpf.DataArch,
            ["offsetof(seccomp_data.args)"] = Bpf.DataArgs,
            ["sizeof(msghdr)"] = sizeof(Libc.MsgHdr),
            ["offsetof(msghdr.msg_iov)"] = Marshal.OffsetOf<Libc.MsgHdr>(nameof(Libc.MsgHdr.Iov)),
            ["offsetof(msghdr.msg_control)"] = Marshal.OffsetOf<Libc.MsgHdr>(nameof(Libc.MsgHdr.Control)),
            ["offsetof(msghdr.msg_controllen)"] = Marshal.OffsetOf<Libc.MsgHdr>(nameof(Libc.MsgHdr.ControlLen)),
            ["offsetof(msghdr.msg_flags)"] = Marshal.OffsetOf<Libc.MsgHdr>(nameof(Libc.MsgHdr.Flags)),
            ["sizeof(iovec)"] = sizeof(Libc.IoVec),
            ["CMSG_SPACE(int)"] = sizeof(Libc.CmsgOneFd),
            ["CMSG_LEN(int)"] = Libc.CmsgLenOneFd,
            ["sizeof(sun_path)"] = Libc.UnixPathMax,
            ["SOL_SOCKET"] = Libc.SOL_SOCKET,
            ["SCM_RIGHTS"] = Libc.SCM_RIGHTS,
            ["MSG_NOSIGNAL"] = Libc.MSG_NOSIGNAL,
            ["SYS_seccomp"] = SyscallNumbers.Seccomp,
            ["SECCOMP_SET_MODE_FILTER"] = Libc.SECCOMP_SET_MODE_FILTER,
            ["SECCOMP_FILTER_FLAG_TSYNC"] = Libc.SECCOMP_FILTER_FLAG_TSYNC,
            ["SECCOMP_FILTER_FLAG_LOG"] = Libc.SECCOMP_FILTER_FLAG_LOG,
            ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"] = Libc.SECCOMP_FILTER_FLAG_SPEC_ALLOW,
            ["SECCOMP_FILTER_FLAG_NEW_LISTENER"] = Libc.SECCOMP_FILTER_FLAG_NEW_LISTENER,
            ["SECCOMP_FILTER_FLAG_TSYNC_ESRCH"] = Libc.SECCOMP_FILTER_FLAG_TSYNC_ESRCH,
            ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"] = Libc.SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV,
            ["SECCOMP_RET_KILL_PROCESS"] = Bpf.RetKillProcess,
            ["SECCOMP_RET_KILL_THREAD"] = Bpf.RetKillThread,
            ["SECCOMP_RET_TRAP"] = Bpf.RetTrap,
            ["SECCOMP_RET_ERRNO"] = Bpf.RetErrno,
            ["SECCOMP_RET_USER_NOTIF"] = Bpf.RetUserNotif,
            ["SECCOMP_RET_TRACE"] = Bpf.RetTrace,
            ["SECCOMP_RET_LOG"] = Bpf.RetLog,
            ["SECCOMP_RET_ALLOW"] = Bpf.RetAllow,
            ["SCMP_ACT_KILL_PROCESS"] = Libseccomp.SCMP_ACT_KILL_PROCESS,
            ["SCMP_ACT_NOTIFY"] = Libseccomp.SCMP_ACT_NOTIFY,
            ["SCMP_ACT_ERRNO(0)"] = Libseccomp.SCMP_ACT_ERRNO,
            ["SCMP_ACT_TRACE(0)"] = Libseccomp.SCMP_ACT_TRACE,
            ["SCMP_ACT_LOG"] = Libseccomp.SCMP_ACT_LOG,
            ["SCMP_ACT_ALLOW"] = Libseccomp.SCMP_ACT_ALLOW,
            ["SCMP_CMP_MASKED_EQ"] = Libseccomp.SCMP_CMP_MASKED_EQ,
            ["SCMP_FLTATR_CTL_NNP"] = Libseccomp.SCMP_FLTATR_CTL_NNP,
            ["SCMP_FLTATR_CTL_OPTIMIZE"] = Libseccomp.SCMP_FLTATR_CTL_OPTIMIZE,
            ["SCMP_FLTATR_API_SYSRAWRC"] = Libseccomp.SCMP_FLTATR_API_SYSRAWRC,
            ["SCMP_ARCH_X32"] = EnosysStub.ScmpArchX32,
            ["AUDIT_ARCH_X86_64"] = EnosysStub.AuditArchX86_64,
            ["AUDIT_ARCH_I386"] = EnosysStub.AuditArchI386,
            ["AUDIT_ARCH_S390X"] = EnosysStub.AuditArchS390X,
            ["BPF_MAXINSNS"] = Libc.BPF_MAXINSNS,
            ["ENOSYS"] = EnosysStub.Enosys,
        };

        CProbe.AssertEqual(c, expected);
    }
}
