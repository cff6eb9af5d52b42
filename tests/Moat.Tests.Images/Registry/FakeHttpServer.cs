using System.Collections.Concurrent;
using System.Net;
using System.Text;

namespace Moat.Tests.Images.Registry;

/// <summary>What a <see cref="FakeHttpServer"/> answers.</summary>
public sealed record FakeResponse(int Status, byte[] Body, IReadOnlyDictionary<string, string>? Headers = null)
{
    public static FakeResponse Text(int status, string body, string? contentType = null, IReadOnlyDictionary<string, string>? headers = null)
    {
        var all = new Dictionary<string, string>(headers ?? new Dictionary<string, string>());
        if (contentType is not null) all["Content-Type"] = contentType;
        return new FakeResponse(status, Encoding.UTF8.GetBytes(body), all);
    }
}

/// <summary>A request as the fake server saw it.</summary>
public sealed record FakeRequest(string Method, string PathAndQuery, string? Authorization, string? Range, string? Accept);

/// <summary>
/// An HTTP server on 127.0.0.1 answering from a function: for what a real registry will not do (500s, garbage,
/// redirects to another host, refused tokens). It records every request.
/// </summary>
public sealed class FakeHttpServer : IDisposable
{
    readonly HttpListener listener = new();
    readonly Func<FakeRequest, FakeResponse> answer;
    public ConcurrentQueue<FakeRequest> Requests { get; } = new();
    public int Port { get; }
    public string Host => $"127.0.0.1:{Port}";

    public FakeHttpServer(Func<FakeRequest, FakeResponse> answer)
    {
        this.answer = answer;
        Port = Tool.FreePort();
        listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        listener.Start();
        _ = Task.Run(ServeAsync);
    }

    async Task ServeAsync()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            try
            {
                var r = context.Request;
                var request = new FakeRequest(r.HttpMethod, r.Url!.PathAndQuery, r.Headers["Authorization"], r.Headers["Range"], r.Headers["Accept"]);
                Requests.Enqueue(request);
                var response = answer(request);
                context.Response.StatusCode = response.Status;
                foreach (var (name, value) in response.Headers ?? new Dictionary<string, string>())
                    if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase)) context.Response.ContentType = value;
                    else context.Response.AddHeader(name, value);
                context.Response.ContentLength64 = response.Body.Length;
                if (r.HttpMethod != "HEAD") context.Response.OutputStream.Write(response.Body);
                context.Response.Close();
            }
            catch (Exception e) when (e is HttpListenerException or IOException) { }
        }
    }

    public void Dispose()
    {
        // Close alone: after Stop, the managed HttpListener's Close looks its endpoint up again and
        // binds the port anew, which fails when another process took it meanwhile.
        try
        {
            listener.Close();
        }
        catch (HttpListenerException)
        {
        }
    }
}
