using TacotronRecovery.Core.Metrics;

namespace TacotronRecovery.Engine.Training;

/// <summary>Where the trainer reports: the run directory files, TensorBoard, stdout JSON lines, alerts.</summary>
public interface IRunSink
{
    /// <summary>One step's metrics.</summary>
    void Step(StepMetrics metrics);
    /// <summary>Alignment metrics (training batch or validation).</summary>
    void Alignment(AlignmentMetrics metrics);
    /// <summary>An event (incident, decision, checkpoint, ...).</summary>
    void Event(TrainingEvent e);
    /// <summary>A human log line.</summary>
    void Log(string line);
    /// <summary>An attention heatmap for one utterance (row-major [steps, tokens]).</summary>
    void AlignmentPlot(int step, float[] alignment, int steps, int tokens, string title);
}
