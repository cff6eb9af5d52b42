using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>A failed system call: the operation, the path or object it was about, and errno.</summary>
public sealed class SyscallException : Exception
{
    public SyscallException(string operation, int errno, string? subject = null)
        : base(Format(operation, errno, subject))
    {
        Operation = operation;
        Errno = errno;
        Subject = subject;
    }

    public string Operation { get; }
    public int Errno { get; }
    public string? Subject { get; }

    static string Format(string operation, int errno, string? subject) =>
        subject is null
            ? $"{operation}: {Errors.Describe(errno)}"
            : $"{operation} {subject}: {Errors.Describe(errno)}";
}

/// <summary>errno handling in one place: every wrapper turns a -1 into a <see cref="SyscallException"/> here.</summary>
public static class Errors
{
    public const int EPERM = 1, ENOENT = 2, ESRCH = 3, EINTR = 4, EIO = 5, ENXIO = 6, EBADF = 9, ECHILD = 10,
        EAGAIN = 11, EACCES = 13, EBUSY = 16, EEXIST = 17, EXDEV = 18, ENOTDIR = 20, EISDIR = 21, EINVAL = 22,
        ENOSPC = 28, EROFS = 30, EPIPE = 32, ERANGE = 34, ENOSYS = 38, ENOTEMPTY = 39, ELOOP = 40, EOPNOTSUPP = 95;

    public static int LastErrno => Marshal.GetLastPInvokeError();

    public static string Describe(int errno) => Marshal.GetPInvokeErrorMessage(errno) + $" (errno {errno})";

    /// <summary>Throws for a negative result of a libc call (errno already set by the call).</summary>
    public static int Check(int result, string operation, string? subject = null)
    {
        if (result < 0)
            throw new SyscallException(operation, LastErrno, subject);
        return result;
    }

    public static long Check(long result, string operation, string? subject = null)
    {
        if (result < 0)
            throw new SyscallException(operation, LastErrno, subject);
        return result;
    }

    /// <summary>Retries a call interrupted by a signal, as every blocking libc call here must be.</summary>
    public static int RetryOnEintr(Func<int> call)
    {
        int result;
        do
            result = call();
        while (result < 0 && LastErrno == EINTR);
        return result;
    }
}
