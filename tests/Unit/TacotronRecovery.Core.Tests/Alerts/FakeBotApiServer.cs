using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace TacotronRecovery.Core.Tests.Alerts;

/// <summary>One request the fake Bot API server received.</summary>
public sealed record FakeRequest(string Method, string Token, string ContentType, IReadOnlyDictionary<string, string> Fields,
    IReadOnlyList<FakeFilePart> Files, DateTimeOffset Time);

/// <summary>A file part of a multipart request.</summary>
public sealed record FakeFilePart(string Name, string FileName, string ContentType, byte[] Bytes);

/// <summary>What the server answers: an HTTP status and a Bot API JSON body, or a hang until released.</summary>
public sealed record FakeResponse(int Status, string Body, bool Hang = false)
{
    public static FakeResponse Error(int code, string description, int? retryAfter = null) => new(code,
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["ok"] = false, ["error_code"] = code, ["description"] = description,
            ["parameters"] = retryAfter is null ? null : new Dictionary<string, int> { ["retry_after"] = retryAfter.Value },
        }));
    public static FakeResponse HangForever { get; } = new(0, "", Hang: true);
}

/// <summary>
/// A minimal Telegram Bot API on 127.0.0.1 (HttpListener): routes <c>/bot&lt;token&gt;/&lt;method&gt;</c>, records each
/// request (JSON fields, form fields, multipart parts) and answers sendMessage/sendPhoto with a Message, unless the
/// <see cref="Responder"/> says otherwise.
/// </summary>
public sealed class FakeBotApiServer : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _released = new();
    private readonly Task _loop;
    private int _nextMessageId = 100;

    public FakeBotApiServer(int? port = null)
    {
        Port = port ?? FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    public int Port { get; }
    public string BaseUrl => $"http://127.0.0.1:{Port}";
    public ConcurrentQueue<FakeRequest> Requests { get; } = new();
    public FakeRequest[] RequestList => Requests.ToArray();

    /// <summary>Decides the answer to a request; null = success.</summary>
    public Func<FakeRequest, int, FakeResponse?> Responder { get; set; } = (_, _) => null;

    public static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        int port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try { ctx = await _listener.GetContextAsync(); }
            catch (Exception) { return; }
            _ = Task.Run(() => HandleAsync(ctx));
        }
    }

    private async Task HandleAsync(HttpListenerContext ctx)
    {
        try
        {
            var path = ctx.Request.Url!.AbsolutePath.Trim('/');
            var segments = path.Split('/');
            var token = segments.Length > 0 && segments[0].StartsWith("bot", StringComparison.Ordinal) ? segments[0][3..] : "";
            var method = segments.Length > 1 ? segments[1] : "";
            using var ms = new MemoryStream();
            await ctx.Request.InputStream.CopyToAsync(ms);
            var body = ms.ToArray();
            var contentType = ctx.Request.ContentType ?? "";
            var fields = new Dictionary<string, string>(StringComparer.Ordinal);
            var files = new List<FakeFilePart>();
            if (contentType.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) && body.Length > 0)
            {
                using var doc = JsonDocument.Parse(body);
                foreach (var p in doc.RootElement.EnumerateObject())
                    fields[p.Name] = p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText();
            }
            else if (contentType.StartsWith("multipart/form-data", StringComparison.OrdinalIgnoreCase))
            {
                ParseMultipart(body, contentType, fields, files);
            }
            var request = new FakeRequest(method, token, contentType, fields, files, DateTimeOffset.UtcNow);
            Requests.Enqueue(request);
            var response = Responder(request, Requests.Count) ?? Success(method, fields);
            if (response.Hang)
            {
                try { await Task.Delay(Timeout.Infinite, _released.Token); } catch (OperationCanceledException) { }
                ctx.Response.Abort();
                return;
            }
            var bytes = Encoding.UTF8.GetBytes(response.Body);
            ctx.Response.StatusCode = response.Status;
            ctx.Response.ContentType = "application/json";
            ctx.Response.ContentLength64 = bytes.Length;
            await ctx.Response.OutputStream.WriteAsync(bytes);
            ctx.Response.Close();
        }
        catch (Exception)
        {
            try { ctx.Response.Abort(); } catch (Exception) { }
        }
    }

    private FakeResponse Success(string method, Dictionary<string, string> fields)
    {
        var id = Interlocked.Increment(ref _nextMessageId);
        var chat = fields.TryGetValue("chat_id", out var c) && long.TryParse(c, out var n) ? n : -100;
        var message = new Dictionary<string, object>
        {
            ["message_id"] = id, ["date"] = 1_700_000_000, ["chat"] = new Dictionary<string, object> { ["id"] = chat, ["type"] = "group", ["title"] = "t" },
        };
        if (method == "sendMessage") message["text"] = fields.GetValueOrDefault("text", "");
        if (method == "sendPhoto") message["photo"] = new[] { new Dictionary<string, object> { ["file_id"] = "f", ["file_unique_id"] = "u", ["width"] = 1, ["height"] = 1 } };
        return new FakeResponse(200, JsonSerializer.Serialize(new Dictionary<string, object> { ["ok"] = true, ["result"] = message }));
    }

    private static void ParseMultipart(byte[] body, string contentType, Dictionary<string, string> fields, List<FakeFilePart> files)
    {
        var boundaryParam = contentType.Split(';').Select(s => s.Trim()).First(s => s.StartsWith("boundary=", StringComparison.OrdinalIgnoreCase))["boundary=".Length..].Trim('"');
        var delimiter = Encoding.ASCII.GetBytes("--" + boundaryParam);
        int pos = IndexOf(body, delimiter, 0);
        while (pos >= 0)
        {
            int start = pos + delimiter.Length;
            if (start + 2 <= body.Length && body[start] == '-' && body[start + 1] == '-') break;
            start += 2; // CRLF
            int next = IndexOf(body, delimiter, start);
            if (next < 0) break;
            int headerEnd = IndexOf(body, "\r\n\r\n"u8.ToArray(), start);
            var headers = Encoding.UTF8.GetString(body, start, headerEnd - start);
            int dataStart = headerEnd + 4, dataEnd = next - 2; // strip CRLF before the delimiter
            var data = body[dataStart..dataEnd];
            string? name = null, fileName = null, type = "";
            foreach (var line in headers.Split("\r\n"))
            {
                if (line.StartsWith("Content-Disposition", StringComparison.OrdinalIgnoreCase))
                {
                    foreach (var part in line.Split(';').Select(s => s.Trim()))
                    {
                        if (part.StartsWith("name=", StringComparison.OrdinalIgnoreCase)) name = part[5..].Trim('"');
                        if (part.StartsWith("filename=", StringComparison.OrdinalIgnoreCase)) fileName = part[9..].Trim('"');
                    }
                }
                if (line.StartsWith("Content-Type", StringComparison.OrdinalIgnoreCase)) type = line[(line.IndexOf(':') + 1)..].Trim();
            }
            if (fileName is not null) files.Add(new FakeFilePart(name ?? "", fileName, type, data));
            else if (name is not null) fields[name] = Encoding.UTF8.GetString(data);
            pos = next;
        }
    }

    private static int IndexOf(byte[] haystack, byte[] needle, int from)
    {
        for (int i = from; i <= haystack.Length - needle.Length; i++)
        {
            int j = 0;
            while (j < needle.Length && haystack[i + j] == needle[j]) j++;
            if (j == needle.Length) return i;
        }
        return -1;
    }

    public void Dispose()
    {
        _released.Cancel();
        try { _listener.Stop(); _listener.Close(); } catch (Exception) { }
        try { _loop.Wait(TimeSpan.FromSeconds(2)); } catch (Exception) { }
    }
}
