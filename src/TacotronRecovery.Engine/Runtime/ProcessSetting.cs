namespace TacotronRecovery.Engine.Runtime;

/// <summary>
/// A process-wide native setting applied at most once (<see cref="MklDispatch"/>, <see cref="OneDnn"/>,
/// <see cref="NativeHeap"/>): the first <see cref="Apply"/> runs it under a lock and keeps what it reports.
/// </summary>
internal sealed class ProcessSetting(Func<string> apply)
{
    private readonly object _gate = new();
    private string? _state;

    /// <summary>What the setting did, or <c>not checked</c> before the first <see cref="Apply"/>.</summary>
    public string State
    {
        get
        {
            lock (_gate) return _state ?? "not checked";
        }
    }

    /// <summary>Applies the setting the first time; every call returns <see cref="State"/>.</summary>
    public string Apply()
    {
        lock (_gate) return _state ??= apply();
    }
}
