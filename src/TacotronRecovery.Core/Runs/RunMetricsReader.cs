using TacotronRecovery.Core.Metrics;

namespace TacotronRecovery.Core.Runs;

/// <summary>Which records of a run to read.</summary>
public enum MetricsKind
{
    /// <summary><see cref="StepMetrics"/> from metrics.jsonl.</summary>
    Step,
    /// <summary><see cref="AlignmentMetrics"/> from alignment.jsonl.</summary>
    Alignment,
    /// <summary><see cref="TrainingEvent"/> from events.jsonl.</summary>
    Event,
    /// <summary>All three, merged by time.</summary>
    All,
}

/// <summary>
/// Reads (and follows) the metric and event files of one run as typed records, streaming: what
/// Get-TrainingMetrics emits. Records with no <c>run</c> field get the run's name, so pipelines can bind Run.
/// With <see cref="MetricsKind.All"/> the three files are merged by time (each file is in time order). Step and
/// alignment records are those of the current timeline: records a resume superseded are left out
/// (<see cref="JsonLines.ReadCurrent{T}"/>, counted in <see cref="JsonLinesStats.Superseded"/>); a follow emits
/// records as they are appended.
/// </summary>
public sealed class RunMetricsReader
{
    private readonly Dictionary<string, JsonLinesStats> _stats = new(StringComparer.Ordinal);

    /// <summary>A reader of <paramref name="run"/>'s <paramref name="kind"/> records.</summary>
    public RunMetricsReader(RunDirectory run, MetricsKind kind)
    {
        Run = run;
        Kind = kind;
        foreach (var f in Files) _stats[f] = new JsonLinesStats();
    }

    /// <summary>The run.</summary>
    public RunDirectory Run { get; }

    /// <summary>What is read.</summary>
    public MetricsKind Kind { get; }

    /// <summary>Per-file counts (skipped lines, torn tail), keyed by file path; filled while enumerating.</summary>
    public IReadOnlyDictionary<string, JsonLinesStats> Stats => _stats;

    /// <summary>The files read.</summary>
    public IReadOnlyList<string> Files => Kind switch
    {
        MetricsKind.Step => new[] { Run.MetricsFile },
        MetricsKind.Alignment => new[] { Run.AlignmentFile },
        MetricsKind.Event => new[] { Run.EventsFile },
        _ => new[] { Run.MetricsFile, Run.AlignmentFile, Run.EventsFile },
    };

    /// <summary>
    /// Records at or after step <paramref name="since"/> (all when null), of which only the last
    /// <paramref name="last"/> (all when null). <c>last</c> alone seeks from the end of each file.
    /// </summary>
    public IEnumerable<object> Read(int? last = null, int? since = null)
    {
        var streams = Files.Select(f => Open(f, last, since)).ToList();
        var merged = streams.Count == 1 ? streams[0] : Merge(streams);
        return last is { } n && (since is not null || streams.Count > 1) ? TakeLast(merged, n) : merged;
    }

    /// <summary>
    /// <see cref="Read"/>, then every record appended later, until <paramref name="cancellationToken"/> is cancelled
    /// or, at an idle poll, <paramref name="keepFollowing"/> returns false (the run ended): the lines written up to
    /// then are still emitted. Half-written last lines are waited for.
    /// </summary>
    public IEnumerable<object> Follow(int? last, int? since, Func<bool> keepFollowing, TimeSpan? pollInterval = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(keepFollowing);
        foreach (var r in Read(last, since))
        {
            yield return r;
            if (cancellationToken.IsCancellationRequested) yield break;
        }
        var wait = pollInterval ?? JsonLines.DefaultPollInterval;
        var cursors = Files.Select(f => Cursor(f)).ToList();
        try
        {
            bool final = false;
            while (!cancellationToken.IsCancellationRequested)
            {
                var batch = new List<object>();
                foreach (var c in cursors) batch.AddRange(c.ReadAvailable(since));
                if (batch.Count > 0)
                {
                    if (cursors.Count > 1) batch.Sort((a, b) => TimeOf(a).CompareTo(TimeOf(b)));
                    foreach (var r in batch)
                    {
                        yield return r;
                        if (cancellationToken.IsCancellationRequested) yield break;
                    }
                    continue;
                }
                if (final) yield break;
                if (!keepFollowing()) { final = true; continue; } // one last drain, then stop
                if (cancellationToken.WaitHandle.WaitOne(wait)) yield break;
            }
        }
        finally
        {
            foreach (var c in cursors) c.Dispose();
        }
    }

    private IEnumerable<object> Open(string file, int? last, int? since)
    {
        var stats = _stats[file];
        return file == Run.MetricsFile ? Typed<StepMetrics>(file, last, since, stats)
            : file == Run.AlignmentFile ? Typed<AlignmentMetrics>(file, last, since, stats)
            : Typed<TrainingEvent>(file, last, since, stats);
    }

    private IEnumerable<object> Typed<T>(string file, int? last, int? since, JsonLinesStats stats) where T : class
    {
        // Steps and alignment: the current timeline (a resume supersedes what the dead engine wrote past its
        // checkpoint, JsonLines.ReadCurrent). Events are history and are read as written.
        bool timeline = typeof(T) != typeof(TrainingEvent);
        var source = !timeline
            ? (since is { } s ? JsonLines.ReadSince<T>(file, s, stats) : last is { } n ? JsonLines.ReadLast<T>(file, n, stats) : JsonLines.Read<T>(file, stats))
            : since is not null || last is null ? JsonLines.ReadCurrent<T>(file, stats, since)
            : JsonLines.Current(JsonLines.ReadLast<T>(file, last.Value, stats).ToList(), r => StepOf(r), stats);
        foreach (var r in source) yield return WithRun(r);
    }

    private IFollowCursor Cursor(string file)
    {
        var stats = _stats[file];
        return file == Run.MetricsFile ? new FollowCursor<StepMetrics>(this, file, stats)
            : file == Run.AlignmentFile ? new FollowCursor<AlignmentMetrics>(this, file, stats)
            : new FollowCursor<TrainingEvent>(this, file, stats);
    }

    private object WithRun(object r) => r switch
    {
        StepMetrics m when m.Run is null => m with { Run = Run.Name },
        AlignmentMetrics a when a.Run is null => a with { Run = Run.Name },
        TrainingEvent e when e.Run is null => e with { Run = Run.Name },
        _ => r,
    };

    internal static DateTimeOffset TimeOf(object r) => r switch
    {
        StepMetrics m => m.Time,
        AlignmentMetrics a => a.Time,
        TrainingEvent e => e.Time,
        _ => DateTimeOffset.MinValue,
    };

    internal static int StepOf(object r) => r switch
    {
        StepMetrics m => m.Step,
        AlignmentMetrics a => a.Step,
        TrainingEvent e => e.Step,
        _ => 0,
    };

    private static IEnumerable<object> Merge(IReadOnlyList<IEnumerable<object>> streams)
    {
        var its = streams.Select(s => s.GetEnumerator()).ToList();
        try
        {
            var has = its.Select(e => e.MoveNext()).ToArray();
            while (true)
            {
                int pick = -1;
                for (int i = 0; i < its.Count; i++)
                    if (has[i] && (pick < 0 || TimeOf(its[i].Current) < TimeOf(its[pick].Current))) pick = i;
                if (pick < 0) yield break;
                yield return its[pick].Current;
                has[pick] = its[pick].MoveNext();
            }
        }
        finally
        {
            foreach (var e in its) e.Dispose();
        }
    }

    private static IEnumerable<object> TakeLast(IEnumerable<object> source, int n)
    {
        if (n <= 0) yield break;
        var ring = new Queue<object>(Math.Min(n, 4096));
        foreach (var r in source)
        {
            if (ring.Count == n) ring.Dequeue();
            ring.Enqueue(r);
        }
        foreach (var r in ring) yield return r;
    }

    private interface IFollowCursor : IDisposable
    {
        IEnumerable<object> ReadAvailable(int? since);
    }

    private sealed class FollowCursor<T>(RunMetricsReader owner, string file, JsonLinesStats stats) : IFollowCursor where T : class
    {
        private readonly JsonLinesCursor<T> _cursor = new(file, stats.Position, stats);

        public IEnumerable<object> ReadAvailable(int? since)
        {
            foreach (var r in _cursor.ReadAvailable())
                if (since is not { } s || StepOf(r) >= s) yield return owner.WithRun(r);
        }

        public void Dispose() => _cursor.Dispose();
    }
}
