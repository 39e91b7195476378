using System.Text.Json;

namespace TacotronRecovery.Core.Plots;

/// <summary>A dense matrix for plotting: row-major values with their shape.</summary>
/// <param name="Values">Row-major values.</param>
/// <param name="Rows">Rows (decoder steps of an alignment, mel channels of a mel, 1 for a gate curve).</param>
/// <param name="Columns">Columns (tokens of an alignment, frames of a mel or gate).</param>
public sealed record PlotMatrix(float[] Values, int Rows, int Columns)
{
    /// <summary>
    /// Reads a matrix from JSON: a 2-D array (<c>[[...], [...]]</c>, one inner array per row), a 1-D array (one row),
    /// or an object whose <c>data</c>, <c>alignment</c>, <c>values</c> or <c>mel</c> property holds one of those.
    /// Numbers may be the strings "NaN", "Infinity", "-Infinity".
    /// </summary>
    /// <param name="path">JSON file.</param>
    /// <exception cref="FormatException">Not a numeric matrix; the message names the file and the offending row.</exception>
    public static PlotMatrix ReadJson(string path)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(File.ReadAllText(path)); }
        catch (JsonException e) { throw new FormatException($"{path}: not valid JSON (line {e.LineNumber + 1}): {e.Message}", e); }
        using (doc) return FromJson(doc.RootElement, path);
    }

    /// <summary>A matrix from rows (jagged array); all rows must have the same length.</summary>
    /// <param name="rows">Rows.</param>
    /// <param name="source">Name used in error messages.</param>
    /// <exception cref="FormatException">Empty or ragged.</exception>
    public static PlotMatrix FromRows(IReadOnlyList<IReadOnlyList<float>> rows, string source = "data")
    {
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0 || rows[0].Count == 0) throw new FormatException($"{source}: the matrix is empty.");
        int cols = rows[0].Count;
        var values = new float[rows.Count * cols];
        for (int r = 0; r < rows.Count; r++)
        {
            if (rows[r].Count != cols) throw new FormatException($"{source}: row {r} has {rows[r].Count} values, row 0 has {cols}.");
            for (int c = 0; c < cols; c++) values[r * cols + c] = rows[r][c];
        }
        return new PlotMatrix(values, rows.Count, cols);
    }

    private static PlotMatrix FromJson(JsonElement e, string path)
    {
        if (e.ValueKind == JsonValueKind.Object)
        {
            foreach (var name in new[] { "data", "alignment", "values", "mel" })
                if (e.TryGetProperty(name, out var inner)) return FromJson(inner, path);
            throw new FormatException($"{path}: expected an array, or an object with a data, alignment, values or mel array.");
        }
        if (e.ValueKind != JsonValueKind.Array || e.GetArrayLength() == 0) throw new FormatException($"{path}: expected a non-empty array of numbers or of rows.");
        var rows = new List<IReadOnlyList<float>>();
        if (e[0].ValueKind == JsonValueKind.Array)
        {
            int r = 0;
            foreach (var row in e.EnumerateArray())
            {
                if (row.ValueKind != JsonValueKind.Array) throw new FormatException($"{path}: row {r} is not an array.");
                rows.Add(row.EnumerateArray().Select((v, c) => Number(v, path, r, c)).ToArray());
                r++;
            }
        }
        else
        {
            rows.Add(e.EnumerateArray().Select((v, c) => Number(v, path, 0, c)).ToArray());
        }
        return FromRows(rows, path);
    }

    private static float Number(JsonElement v, string path, int row, int col) => v.ValueKind switch
    {
        JsonValueKind.Number => v.GetSingle(),
        JsonValueKind.String when float.TryParse(v.GetString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var f) => f,
        _ => throw new FormatException($"{path}: row {row}, column {col} is not a number ({v.GetRawText()})."),
    };
}
