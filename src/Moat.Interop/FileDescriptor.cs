using System.Runtime.InteropServices;

namespace Moat.Interop;

/// <summary>An owned file descriptor, closed exactly once.</summary>
public sealed class FileDescriptor : SafeHandle
{
    public FileDescriptor(int fd, bool ownsHandle = true) : base(new IntPtr(-1), ownsHandle) => SetHandle(new IntPtr(fd));

    public int Fd => (int)handle;
    public override bool IsInvalid => (int)handle < 0;

    protected override bool ReleaseHandle() => Libc.close((int)handle) == 0;

    /// <summary>Gives the number up: the caller is now responsible for closing it.</summary>
    public int Detach()
    {
        var fd = Fd;
        SetHandleAsInvalid();
        return fd;
    }
}
