using TacotronRecovery.Core.Runs;

namespace TacotronRecovery.Core.Tests.Runs;

public class ExternalCommandTests
{
    private static readonly string[] Torchrun = ["torchrun", "--nproc_per_node", "2", "train.py", "--output_directory", "out", "-c", "{checkpoint}", "--warm_start"];

    [Fact]
    public void Substitute_WithCheckpoint_ReplacesEveryPlaceholder()
    {
        Assert.Equal(["torchrun", "--nproc_per_node", "2", "train.py", "--output_directory", "out", "-c", "/ck/checkpoint_500", "--warm_start"],
            ExternalCommand.Substitute(Torchrun, "/ck/checkpoint_500"));
        Assert.Equal(["python", "train.py", "--ckpt=/a b/c.pt"], ExternalCommand.Substitute(["python", "train.py", "--ckpt={checkpoint}"], "/a b/c.pt"));
    }

    [Fact]
    public void Substitute_WithoutCheckpoint_RemovesThePlaceholderAndItsOptionName()
    {
        Assert.Equal(["torchrun", "--nproc_per_node", "2", "train.py", "--output_directory", "out", "--warm_start"], ExternalCommand.Substitute(Torchrun, null));
        Assert.Equal(["python", "train.py"], ExternalCommand.Substitute(["python", "train.py", "--ckpt={checkpoint}"], null));
        // A positional placeholder goes alone; the program is never taken for an option name.
        Assert.Equal(["python", "train.py", "out"], ExternalCommand.Substitute(["python", "train.py", "out", "{checkpoint}"], null));
        Assert.Equal(["-weird"], ExternalCommand.Substitute(["-weird", "{checkpoint}"], null));
    }

    [Fact]
    public void TakesCheckpoint_TrueOnlyWithThePlaceholder()
    {
        Assert.True(ExternalCommand.TakesCheckpoint(Torchrun));
        Assert.False(ExternalCommand.TakesCheckpoint(["python", "train.py"]));
    }

    [Fact]
    public void Json_RoundTrips_AndRejectsWhatIsNotAnArgv()
    {
        Assert.Equal(Torchrun, ExternalCommand.FromJson(ExternalCommand.ToJson(Torchrun)));
        Assert.Throws<ArgumentException>(() => ExternalCommand.FromJson("[]"));
        Assert.Throws<ArgumentException>(() => ExternalCommand.FromJson("[\"\"]"));
        Assert.Throws<ArgumentException>(() => ExternalCommand.FromJson("{\"a\":1}"));
        Assert.Throws<ArgumentException>(() => ExternalCommand.FromJson("[1, 2]"));
    }

    [Fact]
    public void SaveAndTryLoad_CommandJsonMarksTheRunExternal()
    {
        using var dir = new TempDir();
        var run = new RunDirectory(dir.File("r")).Create();
        Assert.False(run.IsExternal);
        Assert.Null(ExternalCommand.TryLoad(run));
        ExternalCommand.Save(run, Torchrun);
        Assert.True(run.IsExternal);
        Assert.Equal(Torchrun, ExternalCommand.TryLoad(run));
        File.WriteAllText(run.CommandFile, "not json");
        Assert.Equal("CommandCorrupt", Assert.Throws<RunDataException>(() => ExternalCommand.TryLoad(run)).ErrorId);
    }

    [Fact]
    public void TrainingLaunch_Command_SuperviseWithTheArgvAsJson_ResumeReusesCommandJson()
    {
        using var dir = new TempDir();
        var launch = TrainingLaunch.Prepare(new TrainingRequest { RunsRoot = dir.File("runs"), Run = "ddp", Command = Torchrun, GraceSeconds = 10, MaxSteps = 100, WorkingDirectory = "/w" });
        Assert.Equal(["supervise", "--command", ExternalCommand.ToJson(Torchrun), "--grace-seconds", "10", "--working-directory", "/w", "--runs-root", dir.File("runs"), "--run", "ddp", "--max-steps", "100"], launch.Arguments);
        ExternalCommand.Save(launch.Run.Create(), Torchrun);
        var resume = TrainingLaunch.Prepare(new TrainingRequest { RunsRoot = dir.File("runs"), Run = "ddp", Resume = true });
        Assert.Equal(["supervise", "--command", ExternalCommand.ToJson(Torchrun), "--runs-root", dir.File("runs"), "--run", "ddp", "--resume"], resume.Arguments);
        Assert.Throws<ArgumentException>(() => TrainingLaunch.Prepare(new TrainingRequest { RunsRoot = dir.Path, Run = "x", Command = [" "] }));
    }
}
