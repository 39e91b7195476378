using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace TacotronRecovery.Core.Config;

/// <summary>A parsed YAML node with its position (1-based line and column).</summary>
internal abstract record YNode(int Line, int Column);

/// <summary>A scalar. <see cref="Plain"/> is false for quoted and block scalars (so "null" stays a string).</summary>
internal sealed record YScalar(string Value, bool Plain, int Line, int Column) : YNode(Line, Column)
{
    public bool IsNull => Plain && (Value.Length == 0 || Value == "~" || Value is "null" or "Null" or "NULL");
}

/// <summary>A mapping entry: key text and position, and its value.</summary>
internal sealed record YEntry(string Key, int Line, int Column, YNode Value);

/// <summary>A mapping with its entries in file order.</summary>
internal sealed record YMapping(List<YEntry> Entries, int Line, int Column) : YNode(Line, Column);

/// <summary>A sequence.</summary>
internal sealed record YSequence(List<YNode> Items, int Line, int Column) : YNode(Line, Column);

/// <summary>
/// Builds a <see cref="YNode"/> tree from YamlDotNet's parser events, rejecting duplicate keys. Bounded: nesting deeper
/// than <see cref="MaxDepth"/> and more than <see cref="MaxNodes"/> nodes (aliases counted at every use, so an alias
/// bomb is refused) are errors naming the line, never a stack overflow or an exponential walk.
/// </summary>
internal static class YamlTree
{
    /// <summary>Deepest nesting accepted. A config is 3–4 levels deep; YAML from a stranger may be 50 000.</summary>
    public const int MaxDepth = 64;

    /// <summary>Most nodes accepted, an alias counting as the nodes it stands for.</summary>
    public const int MaxNodes = 100_000;

    public static YNode? Parse(TextReader reader, string? path)
    {
        var parser = new Parser(reader);
        var anchors = new Dictionary<string, (YNode Node, int Size)>(StringComparer.Ordinal);
        var budget = new NodeBudget(path);
        try
        {
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _)) return null;
            parser.Consume<DocumentStart>();
            YNode? root = parser.Accept<DocumentEnd>(out _) ? null : ReadNode(parser, anchors, budget, path, "", 1).Node;
            parser.Consume<DocumentEnd>();
            if (!parser.Accept<StreamEnd>(out var end))
                throw new ConfigException(path, (int)parser.Current!.Start.Line, (int)parser.Current.Start.Column, "",
                    "more than one YAML document; a config file holds exactly one");
            return root;
        }
        catch (YamlException e)
        {
            var message = e.Message;
            var colon = message.IndexOf("): ", StringComparison.Ordinal);
            if (message.StartsWith('(') && colon > 0) message = message[(colon + 3)..];
            throw new ConfigException(path, (int)e.Start.Line, (int)e.Start.Column, "", $"not valid YAML: {message}");
        }
    }

    private sealed class NodeBudget(string? path)
    {
        private int _used;

        public void Spend(int nodes, int line, int column, string keyPath)
        {
            _used += nodes;
            if (_used > MaxNodes)
                throw new ConfigException(path, line, column, keyPath, $"more than {MaxNodes:N0} YAML nodes (aliases counted where they are used); a config is a few dozen");
        }
    }

    /// <summary>Reads one node; returns it with its size in nodes (for alias accounting).</summary>
    private static (YNode Node, int Size) ReadNode(IParser parser, Dictionary<string, (YNode Node, int Size)> anchors, NodeBudget budget,
        string? path, string keyPath, int depth)
    {
        var start = parser.Current;
        if (depth > MaxDepth)
            throw new ConfigException(path, (int)(start?.Start.Line ?? 0), (int)(start?.Start.Column ?? 0), keyPath,
                $"nested more than {MaxDepth} levels deep; a config is a few levels deep");
        if (parser.TryConsume<AnchorAlias>(out var alias))
        {
            if (anchors.TryGetValue(alias.Value.Value, out var target))
            {
                budget.Spend(target.Size, (int)alias.Start.Line, (int)alias.Start.Column, keyPath);
                return target;
            }
            throw new ConfigException(path, (int)alias.Start.Line, (int)alias.Start.Column, keyPath, $"unknown alias *{alias.Value.Value}");
        }
        budget.Spend(1, (int)(start?.Start.Line ?? 0), (int)(start?.Start.Column ?? 0), keyPath);
        YNode node;
        var size = 1;
        string? anchor = null;
        if (parser.TryConsume<Scalar>(out var scalar))
        {
            node = new YScalar(scalar.Value, scalar.Style == ScalarStyle.Plain, (int)scalar.Start.Line, (int)scalar.Start.Column);
            if (!scalar.Anchor.IsEmpty) anchor = scalar.Anchor.Value;
        }
        else if (parser.TryConsume<SequenceStart>(out var seqStart))
        {
            var items = new List<YNode>();
            int i = 0;
            while (!parser.TryConsume<SequenceEnd>(out _))
            {
                var (item, itemSize) = ReadNode(parser, anchors, budget, path, $"{keyPath}[{i++}]", depth + 1);
                items.Add(item);
                size += itemSize;
            }
            node = new YSequence(items, (int)seqStart.Start.Line, (int)seqStart.Start.Column);
            if (!seqStart.Anchor.IsEmpty) anchor = seqStart.Anchor.Value;
        }
        else
        {
            var mapStart = parser.Consume<MappingStart>();
            var entries = new List<YEntry>();
            var seen = new Dictionary<string, YEntry>(StringComparer.Ordinal);
            while (!parser.TryConsume<MappingEnd>(out _))
            {
                var keyEvent = parser.Current;
                if (!parser.TryConsume<Scalar>(out var key))
                    throw new ConfigException(path, (int)keyEvent!.Start.Line, (int)keyEvent.Start.Column, keyPath, "keys must be plain names");
                var childPath = keyPath.Length == 0 ? key.Value : $"{keyPath}.{key.Value}";
                if (seen.TryGetValue(key.Value, out var first))
                    throw new ConfigException(path, (int)key.Start.Line, (int)key.Start.Column, childPath,
                        $"duplicate key (first defined at line {first.Line})");
                var (value, valueSize) = ReadNode(parser, anchors, budget, path, childPath, depth + 1);
                size += valueSize + 1;
                var entry = new YEntry(key.Value, (int)key.Start.Line, (int)key.Start.Column, value);
                seen[key.Value] = entry;
                entries.Add(entry);
            }
            node = new YMapping(entries, (int)mapStart.Start.Line, (int)mapStart.Start.Column);
            if (!mapStart.Anchor.IsEmpty) anchor = mapStart.Anchor.Value;
        }
        if (anchor is not null) anchors[anchor] = (node, size);
        return (node, size);
    }
}
