using System.Text.Json.Nodes;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Core.Contract;

namespace TacotronRecovery.Core.Plots;

/// <summary>A point where training went back to an earlier state; the steps recorded since that state are abandoned.</summary>
/// <param name="AtStep">Last step of the abandoned stretch: the step at which the engine rolled back, or the last step
/// recorded before an engine resumed from an earlier checkpoint. The plot draws the marker here.</param>
/// <param name="ToStep">Step of the checkpoint training continued from: records of steps after it written before
/// <paramref name="Time"/> are abandoned.</param>
/// <param name="Time">When training went back (records written before it belong to the abandoned path); default when unknown.</param>
/// <param name="Label">Marker text: "rollback to 250" (the engine restored a checkpoint and kept counting steps) or
/// "resumed from 550" (an engine started from an earlier checkpoint, so the steps after it were recorded again).</param>
public sealed record RollbackMark(int AtStep, int ToStep, DateTimeOffset Time, string Label);

/// <summary>A piece of one curve drawn in one style: consecutive records in file order, x strictly increasing.</summary>
/// <param name="Xs">Steps.</param>
/// <param name="Ys">Values (non-finite values are left out).</param>
/// <param name="Abandoned">True for steps whose weights were thrown away by a later rollback or resume.</param>
public sealed record CurveSegment(double[] Xs, double[] Ys, bool Abandoned);

/// <summary>
/// The rollbacks of a run and the curve segments they cut. Two things send a run back: an in-process rollback
/// (a <c>RollbackCompleted</c> event: the checkpoint's weights are restored and steps keep counting, so steps
/// <c>restored_step+1..step</c> before the event are abandoned) and a resume from an earlier checkpoint after an
/// engine restart (the step goes back in metrics.jsonl: the earlier records of the repeated steps are abandoned).
/// A record is abandoned when a later record of the same series has a step at or before its own, or when it was written
/// before a rollback that went back to an earlier step. The live records of a series therefore have strictly
/// increasing steps, and no drawn segment goes back in time.
/// </summary>
public sealed class StepTimeline
{
    private StepTimeline(IReadOnlyList<RollbackMark> rollbacks) => Rollbacks = rollbacks;

    /// <summary>The rollbacks in step order of their marker.</summary>
    public IReadOnlyList<RollbackMark> Rollbacks { get; }

    /// <summary>
    /// Rollbacks from the steps in file order (every step that is not after the one before it is a resume) and from the
    /// <c>RollbackCompleted</c> events (their <c>data.restored_step</c>); other events are ignored.
    /// </summary>
    /// <param name="steps">Step records in file order.</param>
    /// <param name="events">Events of the run, optional.</param>
    public static StepTimeline From(IEnumerable<StepMetrics> steps, IEnumerable<TrainingEvent>? events = null)
    {
        ArgumentNullException.ThrowIfNull(steps);
        var marks = new List<RollbackMark>();
        StepMetrics? previous = null;
        foreach (var s in steps)
        {
            if (previous is not null && s.Step <= previous.Step)
                marks.Add(new RollbackMark(previous.Step, s.Step - 1, s.Time, $"resumed from {s.Step - 1}"));
            previous = s;
        }
        foreach (var e in events ?? [])
        {
            if (!IsRollback(e) || RestoredStep(e.Data) is not int restored || restored >= e.Step) continue;
            marks.Add(new RollbackMark(e.Step, restored, e.Time, $"rollback to {restored}"));
        }
        return new StepTimeline(marks.OrderBy(m => m.AtStep).ThenBy(m => m.Time).ToList());
    }

    /// <summary>Whether <see cref="From"/> reads a mark from the event (a <c>RollbackCompleted</c> event); to keep only those.</summary>
    /// <param name="e">An event.</param>
    public static bool IsRollback(TrainingEvent e) => e?.Code == EventCodes.RollbackCompleted;

    private static int? RestoredStep(JsonObject? data) =>
        data?["restored_step"] is JsonValue v && v.TryGetValue(out int step) ? step : null;

    /// <summary>
    /// For each record: true when it is abandoned (a later record of the same list has a step at or before its own, or
    /// it was written before a rollback whose <see cref="RollbackMark.ToStep"/> is before its step; the second test
    /// needs both times).
    /// </summary>
    /// <param name="records">One series in file order.</param>
    /// <param name="step">Step of a record.</param>
    /// <param name="time">Time a record was written.</param>
    public bool[] Abandoned<T>(IReadOnlyList<T> records, Func<T, int> step, Func<T, DateTimeOffset> time)
    {
        ArgumentNullException.ThrowIfNull(records);
        var flags = new bool[records.Count];
        int minLater = int.MaxValue;
        for (int i = records.Count - 1; i >= 0; i--)
        {
            int s = step(records[i]);
            var t = time(records[i]);
            flags[i] = minLater <= s
                || (t != default && Rollbacks.Any(m => m.Time != default && t < m.Time && s > m.ToStep));
            minLater = Math.Min(minLater, s);
        }
        return flags;
    }

    /// <summary>
    /// One series cut into segments. The live records form one segment while they follow each other, also across an
    /// abandoned stretch that went back (after a resume the live path continues from the checkpoint's step); the live
    /// path is broken where it skips steps that only abandoned records cover (an in-process rollback: a straight line
    /// over them would read as data, e.g. a learning-rate ramp that never happened). Abandoned records form one
    /// segment per run of consecutive abandoned records whose steps increase. Segments are ordered by their first
    /// record. Values that are not finite are left out (the line bridges them); a segment left without points is dropped.
    /// </summary>
    /// <param name="records">One series in file order.</param>
    /// <param name="step">Step of a record (x).</param>
    /// <param name="time">Time a record was written.</param>
    /// <param name="value">Value to draw (y); NaN or infinity to leave the record out.</param>
    public IReadOnlyList<CurveSegment> Segments<T>(IReadOnlyList<T> records, Func<T, int> step, Func<T, DateTimeOffset> time, Func<T, double> value)
    {
        var abandoned = Abandoned(records, step, time);
        var done = new List<(int First, CurveSegment Segment)>();
        Points? live = null, run = null;
        int lastLive = int.MinValue, skipped = int.MaxValue;   // smallest abandoned step after the last live one
        for (int i = 0; i < records.Count; i++)
        {
            int s = step(records[i]);
            Points g;
            if (abandoned[i])
            {
                if (run is not null && (!abandoned[i - 1] || s <= step(records[i - 1]))) Flush(ref run);
                g = run ??= new Points(i, true);
                if (s > lastLive) skipped = Math.Min(skipped, s);
            }
            else
            {
                if (live is not null && skipped < s) Flush(ref live);
                g = live ??= new Points(i, false);
                lastLive = s;
                skipped = int.MaxValue;
            }
            double y = value(records[i]);
            if (double.IsFinite(y)) { g.Xs.Add(s); g.Ys.Add(y); }
        }
        Flush(ref live);
        Flush(ref run);
        return done.OrderBy(d => d.First).Select(d => d.Segment).ToList();

        void Flush(ref Points? g)
        {
            if (g is { Xs.Count: > 0 }) done.Add((g.First, new CurveSegment(g.Xs.ToArray(), g.Ys.ToArray(), g.Abandoned)));
            g = null;
        }
    }

    private sealed class Points(int first, bool abandoned)
    {
        public int First { get; } = first;
        public bool Abandoned { get; } = abandoned;
        public List<double> Xs { get; } = [];
        public List<double> Ys { get; } = [];
    }
}
