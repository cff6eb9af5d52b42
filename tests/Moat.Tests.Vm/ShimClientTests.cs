using Moat.Interop;
using Moat.Runtime;
using Moat.Vm.Host;
using Moat.Vm.Protocol;

namespace Moat.Tests.Vm;

/// <summary>
/// A runtime command's side of the shim's control socket, against a test playing the shim. An
/// exec's output once went missing here: frames before the reply were skipped as noise.
/// </summary>
public sealed class ShimClientTests : IDisposable
{
    readonly DirectoryInfo directory = Directory.CreateTempSubdirectory("moat-shim-client-");

    /// <summary>A client connected to a listener standing in for the shim, and the shim's end of the connection.</summary>
    (ShimClient Client, FileDescriptor Shim, FileDescriptor Listener) Connect()
    {
        var files = new VmFiles(directory.FullName);
        var listener = Libc.ListenUnix(files.ControlSocket, 1 /* SOCK_STREAM */);
        var client = ShimClient.Connect(files);
        var shim = Libc.TryAccept(listener) ?? throw new InvalidOperationException("the connection did not arrive");
        return (client, shim, listener);
    }

    [Fact]
    public void TheReplyComesFirstAndTheExecsOutputAfterIt()
    {
        var (client, shim, listener) = Connect();
        using (client)
        using (shim)
        using (listener)
        {
            var channel = new FrameChannel(shim, "test shim");
            channel.Write(FrameType.Reply, 5, Reply.Success(42).Encode());
            channel.Write(FrameType.Stdout, 5, "ready\n"u8.ToArray());
            Assert.Equal(42, client.Ask(FrameType.Exec, []).Value);
            var output = client.Channel.Read()!.Value;
            Assert.Equal((FrameType.Stdout, "ready\n"), (output.Type, System.Text.Encoding.UTF8.GetString(output.Payload)));
        }
    }

    [Fact]
    public void OutputBeforeTheReplyIsAnErrorNotSkipped()
    {
        var (client, shim, listener) = Connect();
        using (client)
        using (shim)
        using (listener)
        {
            var channel = new FrameChannel(shim, "test shim");
            channel.Write(FrameType.Stdout, 5, "ready\n"u8.ToArray());
            channel.Write(FrameType.Reply, 5, Reply.Success(42).Encode());
            var error = Assert.Throws<RuntimeException>(() => client.Ask(FrameType.Exec, []));
            Assert.Contains("sent Stdout before its reply to Exec", error.Message);
        }
    }

    [Fact]
    public void AnExitOrAClosedSocketBeforeTheReplyMeansTheMachineStopped()
    {
        foreach (var closeOnly in new[] { false, true })
        {
            var (client, shim, listener) = Connect();
            using (client)
            using (listener)
            {
                using (shim)
                    if (!closeOnly)
                        new FrameChannel(shim, "test shim").Write(FrameType.Exit, 5, new ExitStatus(137).Encode());
                var error = Assert.Throws<RuntimeException>(() => client.Ask(FrameType.Exec, []));
                Assert.Contains("its virtual machine stopped", error.Message);
            }
            File.Delete(new VmFiles(directory.FullName).ControlSocket);
        }
    }

    public void Dispose() => directory.Delete(recursive: true);
}
