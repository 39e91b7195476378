using System.Collections.Concurrent;
using TacotronRecovery.Core.Audio;
using TacotronRecovery.Core.Config;

namespace TacotronRecovery.Core.Data;

/// <summary>
/// The training data of a run: every row read, validated, encoded and turned into a mel (through the
/// <see cref="MelCache"/>), split into training and validation utterances. Rows with an error are skipped and
/// reported (never thrown); warnings are reported and the row is used.
/// </summary>
public sealed class TacotronDataset
{
    private TacotronDataset(IReadOnlyList<Utterance> train, IReadOnlyList<Utterance> validation, IReadOnlyList<DatasetProblem> problems, MelCache cache)
    {
        Train = train;
        Validation = validation;
        Problems = problems;
        Cache = cache;
    }

    /// <summary>Training utterances, in file order.</summary>
    public IReadOnlyList<Utterance> Train { get; }

    /// <summary>Validation utterances, in file order.</summary>
    public IReadOnlyList<Utterance> Validation { get; }

    /// <summary>Every problem found (errors: row skipped; warnings: row used), by source then line.</summary>
    public IReadOnlyList<DatasetProblem> Problems { get; }

    /// <summary>Rows skipped because of an error.</summary>
    public int SkippedRows => Problems.Where(p => p.Severity == ProblemSeverity.Error).Select(p => (p.Path, p.Line)).Distinct().Count();

    /// <summary>The mel cache used (its hit/miss counters tell how much was computed).</summary>
    public MelCache Cache { get; }

    /// <summary>
    /// Loads the dataset the options describe: <see cref="DataOptions.TrainFilelist"/> (+ <see cref="DataOptions.ValidationFilelist"/>,
    /// else a hash split of the training list) when set, else the LJSpeech folder <see cref="DataOptions.Path"/> split by its
    /// validation.txt or by hash. Mels are computed in parallel with at most <paramref name="maxParallelism"/> threads.
    /// </summary>
    /// <param name="options">Data options.</param>
    /// <param name="baseDirectory">Folder relative paths in the options are relative to (the config file's folder); default: current folder.</param>
    /// <param name="onProblem">Called for every problem, on the calling thread, in line order, after loading.</param>
    /// <param name="maxParallelism">Threads for reading audio and computing mels; 0 = processor count.</param>
    /// <param name="cancellationToken">Stops loading.</param>
    /// <exception cref="DatasetNotFoundException">The dataset folder, metadata or filelist does not exist.</exception>
    /// <exception cref="ArgumentException">Neither a path nor a training filelist is set, or an unknown cleaner.</exception>
    public static TacotronDataset Load(DataOptions options, string? baseDirectory = null, Action<DatasetProblem>? onProblem = null,
        int maxParallelism = 0, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var baseDir = System.IO.Path.GetFullPath(string.IsNullOrWhiteSpace(baseDirectory) ? Directory.GetCurrentDirectory() : baseDirectory);
        string Resolve(string p) => System.IO.Path.GetFullPath(System.IO.Path.Combine(baseDir, p));

        DatasetListing trainListing;
        DatasetListing? validationListing = null;
        DatasetSplit split;
        if (!string.IsNullOrWhiteSpace(options.TrainFilelist))
        {
            trainListing = DatasetReader.ReadFilelist(Resolve(options.TrainFilelist));
            if (!string.IsNullOrWhiteSpace(options.ValidationFilelist))
            {
                validationListing = DatasetReader.ReadFilelist(Resolve(options.ValidationFilelist));
                split = new DatasetSplit(new HashSet<string>(), 0);
            }
            else
            {
                split = new DatasetSplit(null, options.ValidationFraction);
            }
        }
        else if (!string.IsNullOrWhiteSpace(options.Path))
        {
            trainListing = DatasetReader.Read(Resolve(options.Path));
            split = DatasetSplit.For(trainListing, options.ValidationFraction);
        }
        else
        {
            throw new ArgumentException("The data section needs 'path' (an LJSpeech folder) or 'train_filelist'.", nameof(options));
        }

        var cacheFolder = string.IsNullOrWhiteSpace(options.MelCachePath)
            ? System.IO.Path.Combine(trainListing.Root, ".melcache")
            : Resolve(options.MelCachePath);
        var cache = new MelCache(cacheFolder, options);
        var validator = new DatasetValidator(options);
        var mel = new MelSpectrogram(options);
        int threads = maxParallelism > 0 ? maxParallelism : Environment.ProcessorCount;

        var problems = new List<DatasetProblem>();
        var train = new List<Utterance>();
        var validation = new List<Utterance>();
        foreach (var (utterance, rowProblems) in LoadListing(trainListing, validator, cache, mel, threads, cancellationToken))
        {
            problems.AddRange(rowProblems);
            if (utterance is null) continue;
            (validationListing is null && split.IsValidation(utterance.Id) ? validation : train).Add(utterance);
        }
        if (validationListing is not null)
        {
            foreach (var (utterance, rowProblems) in LoadListing(validationListing, validator, cache, mel, threads, cancellationToken))
            {
                problems.AddRange(rowProblems);
                if (utterance is not null) validation.Add(utterance);
            }
        }
        if (onProblem is not null)
        {
            foreach (var p in problems) onProblem(p);
        }
        return new TacotronDataset(train, validation, problems, cache);
    }

    private static IEnumerable<(Utterance? Utterance, IReadOnlyList<DatasetProblem> Problems)> LoadListing(
        DatasetListing listing, DatasetValidator validator, MelCache cache, MelSpectrogram mel, int threads, CancellationToken cancellationToken)
    {
        var entries = listing.Entries;
        var results = new (Utterance? Utterance, IReadOnlyList<DatasetProblem> Problems)[entries.Count];
        Parallel.ForEach(Partitioner.Create(0, entries.Count, Math.Max(1, Math.Min(16, entries.Count / (threads * 4) + 1))),
            new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellationToken },
            range =>
            {
                for (int i = range.Item1; i < range.Item2; i++)
                {
                    var entry = entries[i];
                    var check = validator.Check(entry, keepAudio: true);
                    if (!check.Usable || check.Audio is null)
                    {
                        results[i] = (null, check.Problems);
                        continue;
                    }
                    var spectrogram = cache.GetOrCompute(entry.AudioPath, () => mel.Compute(check.Audio.Samples));
                    results[i] = (new Utterance(entry.Id, entry.Text, check.TokenIds!, spectrogram, entry.Line, entry.AudioPath), check.Problems);
                }
            });
        // Merge the reader's line problems back in line order.
        int p = 0;
        for (int i = 0; i < entries.Count; i++)
        {
            while (p < listing.Problems.Count && listing.Problems[p].Line < entries[i].Line) yield return (null, [listing.Problems[p++]]);
            yield return results[i];
        }
        while (p < listing.Problems.Count) yield return (null, [listing.Problems[p++]]);
    }
}
