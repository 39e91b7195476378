using System.Text.Json;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Core.Contract;

/// <summary>
/// The engine's stdout: one JSON object per line, <c>{"type":"&lt;type&gt;","data":{…}}</c>, in the run directory's
/// dialect (<see cref="RunJson"/>). The one writer (the engine) and the one reader (the cmdlets); other lines (human
/// text) are ignored by the reader.
/// </summary>
public static class EngineEnvelope
{
    /// <summary>A <see cref="StepMetrics"/> (train, supervise).</summary>
    public const string Step = "step";
    /// <summary>An <see cref="AlignmentMetrics"/> (train, supervise).</summary>
    public const string Alignment = "alignment";
    /// <summary>A <see cref="TrainingEvent"/> (train, supervise).</summary>
    public const string Event = "event";
    /// <summary>A failure the cmdlet reports with its own ErrorId: an <see cref="EngineError"/>.</summary>
    public const string Error = "error";
    /// <summary>A warning for the cmdlet's warning stream: <c>{"message":…}</c>.</summary>
    public const string Warning = "warning";
    /// <summary>The result of the verb of the same name (env, synthesis, diagnosis per utterance, import, export, forward, bench, mels).</summary>
    public const string Env = "env", Synthesis = "synthesis", Diagnosis = "diagnosis", Import = "import", Export = "export", Forward = "forward", Bench = "bench", Mels = "mels";

    /// <summary>The line for one record (no newline).</summary>
    public static string Line(string type, object? data) =>
        "{\"type\":" + JsonSerializer.Serialize(type) + ",\"data\":" + JsonSerializer.Serialize(data, data?.GetType() ?? typeof(object), RunJson.Options) + "}";

    /// <summary>Writes one record as a line and flushes. A reader that went away (a closed pipe) is ignored: the run directory has everything.</summary>
    public static void Write(TextWriter writer, string type, object? data)
    {
        ArgumentNullException.ThrowIfNull(writer);
        var line = Line(type, data);
        try
        {
            lock (writer)
            {
                writer.WriteLine(line);
                writer.Flush();
            }
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Parses one line; false for human text, malformed JSON or an object without type and data.</summary>
    public static bool TryParse(string? line, out EngineRecord record)
    {
        record = default;
        if (string.IsNullOrEmpty(line)) return false;
        line = line.Trim();
        if (line.Length == 0 || line[0] != '{') return false;
        try
        {
            using var doc = JsonDocument.Parse(line);
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String
                || !doc.RootElement.TryGetProperty("data", out var data)) return false;
            record = new EngineRecord(type.GetString()!, data.Clone());
            return true;
        }
        catch (JsonException)
        {
            return false;
        }
    }

    /// <summary>The records of a whole stdout, in order.</summary>
    public static IReadOnlyList<EngineRecord> ParseAll(string stdout)
    {
        var list = new List<EngineRecord>();
        foreach (var line in (stdout ?? "").Split('\n'))
            if (TryParse(line, out var r)) list.Add(r);
        return list;
    }
}

/// <summary>One parsed envelope line: its type and its data.</summary>
/// <param name="Type">The record type (see the constants of <see cref="EngineEnvelope"/>).</param>
/// <param name="Data">The payload.</param>
public readonly record struct EngineRecord(string Type, JsonElement Data)
{
    /// <summary>The payload as <typeparamref name="T"/> (run-directory JSON dialect).</summary>
    public T? As<T>() => Data.Deserialize<T>(RunJson.Options);

    /// <summary>A training record as its type: <see cref="StepMetrics"/>, <see cref="AlignmentMetrics"/> or <see cref="TrainingEvent"/>; null for other types or a payload that does not fit.</summary>
    public object? ToTrainingRecord()
    {
        try
        {
            return Type switch
            {
                EngineEnvelope.Step => As<StepMetrics>(),
                EngineEnvelope.Alignment => As<AlignmentMetrics>(),
                EngineEnvelope.Event => As<TrainingEvent>(),
                _ => null,
            };
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
