using System.Text.Json;
using System.Text.Json.Serialization;

namespace TacotronRecovery.Core.Runs;

/// <summary>
/// The one JSON dialect of the run directory: snake_case names, enums as strings, NaN and ±Infinity written as
/// the strings "NaN", "Infinity", "-Infinity" (so a non-finite loss is recorded, not lost), no indentation.
/// </summary>
public static class RunJson
{
    /// <summary>Serializer options for every run-directory file and the engine's stdout events.</summary>
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var o = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DictionaryKeyPolicy = JsonNamingPolicy.SnakeCaseLower,
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
            DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
            WriteIndented = false,
        };
        o.Converters.Add(new JsonStringEnumConverter());
        o.MakeReadOnly(populateMissingResolver: true);
        return o;
    }
}
