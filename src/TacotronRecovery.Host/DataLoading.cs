using TacotronRecovery.Core.Config;
using TacotronRecovery.Core.Data;
using TacotronRecovery.Core.Metrics;
using TacotronRecovery.Engine.Training;
using TacotronRecovery.Core.Contract;

namespace TacotronRecovery.Host;

/// <summary>The dataset cannot be used for training (missing, or no usable rows).</summary>
public sealed class DataLoadException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Loads the configured dataset for training: bad rows are skipped with a logged reason, never fatal.</summary>
public static class DataLoading
{
    /// <summary>Training and validation examples.</summary>
    public static (IReadOnlyList<TrainingExample> Train, IReadOnlyList<TrainingExample> Validation) Load(TacotronConfig config, RunSink sink)
    {
        if (string.IsNullOrWhiteSpace(config.Data.Path) && string.IsNullOrWhiteSpace(config.Data.TrainFilelist))
            throw new DataLoadException("No dataset: set data.path (an LJSpeech folder) or data.train_filelist in the config, or pass -Dataset.");
        TacotronDataset dataset;
        int skipped = 0;
        try
        {
            dataset = TacotronDataset.Load(config.Data, Directory.GetCurrentDirectory(), p =>
            {
                if (p.Severity == ProblemSeverity.Error) Interlocked.Increment(ref skipped);
                sink.Log($"data: {(p.Severity == ProblemSeverity.Error ? "skipped" : "warning")} line {p.Line} ({p.Id}): {p.Code}: {p.Message}");
            });
        }
        catch (Exception e) when (e is DatasetNotFoundException or ArgumentException or DirectoryNotFoundException)
        {
            throw new DataLoadException(e.Message, e);
        }
        if (dataset.SkippedRows > 0)
        {
            sink.Event(new TrainingEvent
            {
                Run = config.Name, Time = DateTimeOffset.UtcNow, Kind = EventKinds.Warning, Code = EventCodes.RowsSkipped, Severity = EventSeverity.Warning,
                Message = $"{dataset.SkippedRows} dataset rows were skipped (see training.log for each reason; Test-TacotronDataset lists them).",
            });
        }
        if (dataset.Train.Count == 0)
            throw new DataLoadException($"The dataset at '{config.Data.Path ?? config.Data.TrainFilelist}' has no usable training rows ({dataset.SkippedRows} skipped).");
        static TrainingExample ToExample(Utterance u) => new(u.Id, u.TokenIds, u.Mel);
        return (dataset.Train.Select(ToExample).ToArray(), dataset.Validation.Select(ToExample).ToArray());
    }
}
