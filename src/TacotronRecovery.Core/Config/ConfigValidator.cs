using System.Text.RegularExpressions;

namespace TacotronRecovery.Core.Config;

/// <summary>
/// Range and name checks of a whole <see cref="TacotronConfig"/>. Every problem names its key path
/// (<c>training.batch_size: must be ≥ 1 (got 0)</c>) and, when the config came from a file, the key's line and column.
/// Run it again after applying cmdlet overrides.
/// </summary>
public static partial class ConfigValidator
{
    /// <summary>Names of the loss components a fault can target.</summary>
    public static IReadOnlyList<string> FaultComponents { get; } = new[] { "mel", "mel_postnet", "gate", "guided_attention", "mmi" };

    /// <summary>Text cleaner names.</summary>
    public static IReadOnlyList<string> TextCleaners { get; } = new[] { "english_cleaners", "basic_cleaners", "transliteration_cleaners" };

    /// <summary>All problems as (key path, problem) pairs; empty when the config is valid.</summary>
    public static IReadOnlyList<(string KeyPath, string Problem)> Check(TacotronConfig c)
    {
        var p = new List<(string, string)>();
        void Fail(string key, string problem) => p.Add((key, problem));
        void AtLeast(string key, double value, double min) { if (!(value >= min)) Fail(key, $"must be ≥ {min} (got {value})"); }
        void Positive(string key, double value) { if (!(value > 0)) Fail(key, $"must be > 0 (got {value})"); }
        void Probability(string key, double value) { if (!(value >= 0 && value <= 1)) Fail(key, $"must be in [0, 1] (got {value})"); }
        void Dropout(string key, double value) { if (!(value >= 0 && value < 1)) Fail(key, $"must be in [0, 1) (got {value})"); }
        void OneOf(string key, string? value, IEnumerable<string> allowed)
        {
            if (value is null || !allowed.Contains(value, StringComparer.OrdinalIgnoreCase))
                Fail(key, $"must be one of {string.Join(", ", allowed)} (got '{value}')");
        }
        void Odd(string key, int value) { if (value < 1 || value % 2 == 0) Fail(key, $"must be an odd number ≥ 1 (got {value})"); }

        if (c.Name is { } name && (name.Length == 0 || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name.Contains('/') || name.Contains('\\') || name is "." or ".."))
            Fail("name", $"must be a plain folder name (got '{name}')");
        if (string.IsNullOrWhiteSpace(c.RunsRoot)) Fail("runs_root", "must not be empty");

        var d = c.Data;
        if (!(d.ValidationFraction >= 0 && d.ValidationFraction < 1)) Fail("data.validation_fraction", $"must be in [0, 1) (got {d.ValidationFraction})");
        foreach (var cleaner in d.TextCleaners.Split(',', StringSplitOptions.TrimEntries))
            if (!TextCleaners.Contains(cleaner)) Fail("data.text_cleaners", $"unknown cleaner '{cleaner}' (expected {string.Join(", ", TextCleaners)})");
        AtLeast("data.sample_rate", d.SampleRate, 1000);
        AtLeast("data.filter_length", d.FilterLength, 16);
        AtLeast("data.hop_length", d.HopLength, 1);
        AtLeast("data.win_length", d.WinLength, 1);
        if (d.WinLength > d.FilterLength) Fail("data.win_length", $"must be ≤ data.filter_length ({d.FilterLength}) (got {d.WinLength})");
        AtLeast("data.n_mel_channels", d.NMelChannels, 1);
        AtLeast("data.mel_fmin", d.MelFmin, 0);
        if (!(d.MelFmax > d.MelFmin)) Fail("data.mel_fmax", $"must be > data.mel_fmin ({d.MelFmin}) (got {d.MelFmax})");
        if (d.MelFmax > d.SampleRate / 2.0) Fail("data.mel_fmax", $"must be ≤ half the sample rate ({d.SampleRate / 2.0}) (got {d.MelFmax})");
        AtLeast("data.min_duration_seconds", d.MinDurationSeconds, 0);
        if (!(d.MaxDurationSeconds > d.MinDurationSeconds)) Fail("data.max_duration_seconds", $"must be > data.min_duration_seconds ({d.MinDurationSeconds}) (got {d.MaxDurationSeconds})");

        var m = c.Model;
        OneOf("model.preset", m.Preset, ModelOptions.Presets);
        foreach (var (key, value) in new (string, int)[]
        {
            ("n_symbols", m.NSymbols), ("symbols_embedding_dim", m.SymbolsEmbeddingDim), ("encoder_n_convolutions", m.EncoderNConvolutions),
            ("encoder_embedding_dim", m.EncoderEmbeddingDim), ("n_mel_channels", m.NMelChannels), ("n_frames_per_step", m.NFramesPerStep),
            ("attention_rnn_dim", m.AttentionRnnDim), ("decoder_rnn_dim", m.DecoderRnnDim), ("prenet_dim", m.PrenetDim),
            ("attention_dim", m.AttentionDim), ("attention_location_n_filters", m.AttentionLocationNFilters),
            ("postnet_embedding_dim", m.PostnetEmbeddingDim), ("postnet_n_convolutions", m.PostnetNConvolutions), ("max_decoder_steps", m.MaxDecoderSteps),
        })
            AtLeast("model." + key, value, 1);
        if (m.EncoderEmbeddingDim % 2 != 0) Fail("model.encoder_embedding_dim", $"must be even (the BiLSTM has half per direction) (got {m.EncoderEmbeddingDim})");
        Odd("model.encoder_kernel_size", m.EncoderKernelSize);
        Odd("model.postnet_kernel_size", m.PostnetKernelSize);
        Odd("model.attention_location_kernel_size", m.AttentionLocationKernelSize);
        Dropout("model.encoder_dropout", m.EncoderDropout);
        Dropout("model.prenet_dropout", m.PrenetDropout);
        Dropout("model.p_attention_dropout", m.PAttentionDropout);
        Dropout("model.p_decoder_dropout", m.PDecoderDropout);
        Dropout("model.postnet_dropout", m.PostnetDropout);
        if (!(m.GateThreshold > 0 && m.GateThreshold < 1)) Fail("model.gate_threshold", $"must be in (0, 1) (got {m.GateThreshold})");
        if (!(m.MaxFramesPerToken >= 0) || double.IsInfinity(m.MaxFramesPerToken)) Fail("model.max_frames_per_token", $"must be 0 (off) or a positive number (got {m.MaxFramesPerToken})");
        AtLeast("model.stall_steps", m.StallSteps, 0);
        if (m.NMelChannels != d.NMelChannels) Fail("model.n_mel_channels", $"must equal data.n_mel_channels ({d.NMelChannels}) (got {m.NMelChannels})");

        var t = c.Training;
        AtLeast("training.max_steps", t.MaxSteps, 1);
        AtLeast("training.batch_size", t.BatchSize, 1);
        OneOf("training.optimizer", t.Optimizer, new[] { "adam", "adamw" });
        Positive("training.learning_rate", t.LearningRate);
        AtLeast("training.weight_decay", t.WeightDecay, 0);
        OneOf("training.lr_schedule", t.LrSchedule, new[] { "constant", "warmup_decay" });
        AtLeast("training.warmup_steps", t.WarmupSteps, 0);
        AtLeast("training.decay_start_step", t.DecayStartStep, 0);
        if (!(t.DecayRate > 0 && t.DecayRate <= 1)) Fail("training.decay_rate", $"must be in (0, 1] (got {t.DecayRate})");
        AtLeast("training.decay_every_steps", t.DecayEverySteps, 1);
        AtLeast("training.min_learning_rate", t.MinLearningRate, 0);
        if (t.MinLearningRate > t.LearningRate) Fail("training.min_learning_rate", $"must be ≤ training.learning_rate ({t.LearningRate}) (got {t.MinLearningRate})");
        Positive("training.grad_clip_threshold", t.GradClipThreshold);
        Positive("training.gate_pos_weight", t.GatePosWeight);
        if (!DeviceRegex().IsMatch(t.Device ?? "")) Fail("training.device", $"must be auto, cpu, cuda or cuda:N (got '{t.Device}')");
        AtLeast("training.threads", t.Threads, 0);
        AtLeast("training.validation_every_steps", t.ValidationEverySteps, 1);
        AtLeast("training.validation_sentences", t.ValidationSentences, 0);
        AtLeast("training.checkpoint_every_steps", t.CheckpointEverySteps, 1);
        AtLeast("training.keep_checkpoints", t.KeepCheckpoints, 1);
        AtLeast("training.alignment_every_steps", t.AlignmentEverySteps, 1);
        if (!(t.MmiWeight > 0 && double.IsFinite(t.MmiWeight))) Fail("training.mmi_weight", $"must be > 0 and finite (got {t.MmiWeight})");
        Probability("training.mmi_frame_dropout", t.MmiFrameDropout);

        var g = c.GuidedAttention;
        AtLeast("guided_attention.weight", g.Weight, 0);
        Positive("guided_attention.sigma", g.Sigma);
        if (!(g.DecayRate > 0 && g.DecayRate <= 1)) Fail("guided_attention.decay_rate", $"must be in (0, 1] (got {g.DecayRate})");
        AtLeast("guided_attention.decay_every_steps", g.DecayEverySteps, 1);
        AtLeast("guided_attention.min_weight", g.MinWeight, 0);
        if (g.MinWeight > g.Weight) Fail("guided_attention.min_weight", $"must be ≤ guided_attention.weight ({g.Weight}) (got {g.MinWeight})");
        AtLeast("guided_attention.max_multiplier", g.MaxMultiplier, 1);

        var r = c.Recovery;
        AtLeast("recovery.skip_window_steps", r.SkipWindowSteps, 1);
        AtLeast("recovery.max_skips_in_window", r.MaxSkipsInWindow, 1);
        if (!(r.SpikeFactor > 1)) Fail("recovery.spike_factor", $"must be > 1 (got {r.SpikeFactor})");
        AtLeast("recovery.spike_persist_steps", r.SpikePersistSteps, 1);
        AtLeast("recovery.overflow_persist_steps", r.OverflowPersistSteps, 1);
        AtLeast("recovery.max_safe_mode_level", r.MaxSafeModeLevel, 0);
        AtLeast("recovery.stable_steps_to_step_down", r.StableStepsToStepDown, 1);
        AtLeast("recovery.cooldown_steps", r.CooldownSteps, 0);
        Positive("recovery.learning_rate_floor", r.LearningRateFloor);
        Positive("recovery.clip_threshold_floor", r.ClipThresholdFloor);
        AtLeast("recovery.min_batch_size", r.MinBatchSize, 1);
        AtLeast("recovery.attention_warmup_steps", r.AttentionWarmupSteps, 0);
        Probability("recovery.critical_diagonality", r.CriticalDiagonality);
        Probability("recovery.exit_diagonality", r.ExitDiagonality);
        if (r.ExitDiagonality <= r.CriticalDiagonality) Fail("recovery.exit_diagonality", $"must be > recovery.critical_diagonality ({r.CriticalDiagonality}) (got {r.ExitDiagonality})");
        AtLeast("recovery.attention_exit_steps", r.AttentionExitSteps, 1);
        AtLeast("recovery.attention_budget_steps", r.AttentionBudgetSteps, 1);
        AtLeast("recovery.max_restarts", r.MaxRestarts, 0);
        AtLeast("recovery.max_rollbacks", r.MaxRollbacks, 0);
        AtLeast("recovery.max_attention_retries", r.MaxAttentionRetries, 0);

        var h = c.Health;
        AtLeast("health.rolling_window", h.RollingWindow, 1);
        if (!(h.GradExplosionFactor > 1)) Fail("health.grad_explosion_factor", $"must be > 1 (got {h.GradExplosionFactor})");
        AtLeast("health.plateau_steps", h.PlateauSteps, 1);
        Probability("health.plateau_min_improvement", h.PlateauMinImprovement);
        AtLeast("health.gate_warmup_steps", h.GateWarmupSteps, 0);
        AtLeast("health.stalled_learning_rate", h.StalledLearningRate, 0);
        AtLeast("health.stalled_steps", h.StalledSteps, 1);
        AtLeast("health.parameter_check_every_steps", h.ParameterCheckEverySteps, 1);

        var tg = c.Telegram;
        if (!string.Equals(tg.ParseMode, "HTML", StringComparison.OrdinalIgnoreCase)) Fail("telegram.parse_mode", $"only HTML is supported (got '{tg.ParseMode}')");
        AtLeast("telegram.progress_every_steps", tg.ProgressEverySteps, 1);
        if (!string.IsNullOrWhiteSpace(tg.ApiBaseUrl) && !(Uri.TryCreate(tg.ApiBaseUrl, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)))
            Fail("telegram.api_base_url", "must be an absolute http(s) URL");
        if (!string.IsNullOrWhiteSpace(tg.ChatId) && !ChatIdRegex().IsMatch(tg.ChatId))
            Fail("telegram.chat_id", "must be a number (e.g. -1001234567890) or @channelname");

        var f = c.Faults;
        OneOf("faults.nan_loss_component", f.NanLossComponent, FaultComponents);
        if (f.NanLossComponent == "mmi" && !t.Mmi) Fail("faults.nan_loss_component", "mmi needs training.mmi: true (there is no MMI loss to break otherwise)");
        AtLeast("faults.nan_loss_steps", f.NanLossSteps, 1);
        Positive("faults.lr_explosion_factor", f.LrExplosionFactor);
        OneOf("faults.attention_collapse_mode", f.AttentionCollapseMode, new[] { "reinit", "zero" });
        foreach (var (key, value) in new (string, int?)[]
        {
            ("nan_loss_at_step", f.NanLossAtStep), ("lr_explosion_at_step", f.LrExplosionAtStep), ("corrupt_checkpoint_at_step", f.CorruptCheckpointAtStep),
            ("attention_collapse_at_step", f.AttentionCollapseAtStep), ("kill_at_step", f.KillAtStep),
        })
            if (value is { } v) AtLeast("faults." + key, v, 0);
        return p;
    }

    /// <summary>Returns <paramref name="config"/> when valid, else throws a <see cref="ConfigException"/> for the first problem.</summary>
    public static TacotronConfig Validated(TacotronConfig config) => Validated(config, null, null);

    internal static TacotronConfig Validated(TacotronConfig config, string? path, IReadOnlyDictionary<string, (int Line, int Column)>? locations)
    {
        var problems = Check(config);
        if (problems.Count == 0) return config;
        // Prefer a problem whose key is in the file: that is the line the user has to change.
        var (key, problem) = problems.FirstOrDefault(q => locations?.ContainsKey(q.KeyPath) == true, problems[0]);
        (int line, int column) = locations is not null && locations.TryGetValue(key, out var at) ? at : (0, 0);
        var more = problems.Count > 1 ? $" (and {problems.Count - 1} more: {string.Join("; ", problems.Where(q => q.KeyPath != key || q.Problem != problem).Select(q => $"{q.KeyPath}: {q.Problem}"))})" : "";
        throw new ConfigException(path, line, column, key, problem + more);
    }

    [GeneratedRegex(@"^(auto|cpu|cuda|cuda:\d+)$")]
    private static partial Regex DeviceRegex();

    [GeneratedRegex(@"^(-?\d+|@[A-Za-z][A-Za-z0-9_]{3,})$")]
    private static partial Regex ChatIdRegex();
}
