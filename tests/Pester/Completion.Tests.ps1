# Tab completion of -Run, -Checkpoint and -Preset (the C# argument completers in src/TacotronRecovery.Cmdlets/Completers),
# through TabExpansion2 as a console would call it.

BeforeAll {
    Import-Module $env:TACOTRON_MODULE_PATH -Force
    $script:Fixtures = (Resolve-Path (Join-Path $PSScriptRoot 'fixtures/runs')).Path
    $script:FixtureRuns = @(Get-ChildItem -Directory $Fixtures | ForEach-Object Name | Sort-Object)

    function Get-Completion([string] $Line) {
        @((TabExpansion2 -inputScript $Line -cursorColumn $Line.Length).CompletionMatches)
    }

    # A run with three checkpoints in its manifest (steps 2 and 4 good, 6 not) and one .ckpt the manifest does not know.
    function New-CheckpointRun([string] $Root, [string] $Name) {
        $dir = Join-Path $Root $Name
        $ckpts = Join-Path $dir 'checkpoints'
        New-Item -ItemType Directory -Force -Path $ckpts | Out-Null
        Set-Content (Join-Path $dir 'run.json') (@{ name = $Name; status = 'Stopped'; pid = 0; host = ''; step = 6 } | ConvertTo-Json)
        $manifest = [TacotronRecovery.Core.Checkpoints.CheckpointManifest]::Load((Join-Path $ckpts 'manifest.json'))
        foreach ($step in 2, 4, 6) {
            $file = Join-Path $ckpts ('step-{0:D6}.ckpt' -f $step)
            Set-Content $file "weights $step"
            $entry = [TacotronRecovery.Core.Checkpoints.CheckpointEntry]::ForFile($file, $step, 'hash', 1.0 / $step, 0.5, 0.9, $step -ne 6, $null)
            $manifest.AddOrUpdate($entry) | Out-Null
        }
        $manifest.Save()
        Set-Content (Join-Path $ckpts 'step-000008.ckpt') 'weights 8'
        $dir
    }

    $script:Root = Join-Path $TestDrive 'runs'
    $script:Demo = New-CheckpointRun -Root $Root -Name 'demo'
    New-Item -ItemType Directory -Force -Path (Join-Path $Root 'my run') | Out-Null
    Set-Content (Join-Path $Root 'my run/metrics.jsonl') ''
    New-Item -ItemType Directory -Force -Path (Join-Path $Root 'not-a-run') | Out-Null

    $script:SavedRuns = $env:TACOTRON_RUNS
}

AfterAll {
    $env:TACOTRON_RUNS = $script:SavedRuns
}

Describe 'Completion of -Run' {
    BeforeEach { $env:TACOTRON_RUNS = $Fixtures }
    AfterEach { $env:TACOTRON_RUNS = $script:SavedRuns }

    It 'offers the run folders under $env:TACOTRON_RUNS with status and last step as the tooltip' {
        $c = Get-Completion 'Get-TrainingMetrics -Run '
        $c.CompletionText | Should -Be $FixtureRuns
        $c.ResultType | Sort-Object -Unique | Should -Be 'ParameterValue'
        ($c | Where-Object CompletionText -eq 'healthy').ToolTip | Should -Match '^Completed, step 60, loss 0\.9'
        ($c | Where-Object CompletionText -eq 'healthy').ToolTip | Should -Match ([regex]::Escape((Join-Path $Fixtures 'healthy')))
    }

    It 'matches the typed prefix ignoring case' {
        (Get-Completion 'Get-TacotronRun -Run HEA').CompletionText | Should -Be 'healthy'
        (Get-Completion 'Test-LossHealth -Run c').CompletionText | Should -Be 'cap-reached', 'collapsed-stopped'
    }

    It 'uses -RunsRoot from the command line, lists only run folders, and quotes names with spaces' {
        $c = Get-Completion "Get-TacotronCheckpoint -RunsRoot '$Root' -Run "
        $c.CompletionText | Should -Be 'demo', "'my run'"
        $c[1].ListItemText | Should -Be 'my run'
        (Get-Completion "Get-TacotronCheckpoint -RunsRoot '$Root' -Run 'my").CompletionText | Should -Be "'my run'"
        (Get-Completion 'Get-TacotronCheckpoint -RunsRoot $Root -Run d').CompletionText | Should -Be 'demo' -Because '-RunsRoot given as a variable'
    }

    It 'finds ./runs in the current location on a PowerShell drive' {
        $env:TACOTRON_RUNS = $null
        New-PSDrive -Name CMPLDRIVE -PSProvider FileSystem -Root $TestDrive | Out-Null
        Push-Location CMPLDRIVE:/
        try {
            (Get-Completion 'Stop-TacotronTraining -Run d').CompletionText | Should -Be 'demo'
        }
        finally {
            Pop-Location
            Remove-PSDrive CMPLDRIVE
        }
    }

    It 'leaves a path to path completion' {
        Push-Location $TestDrive
        try {
            $c = Get-Completion 'Get-TacotronRun -Run ./ru'
            $c.CompletionText | Should -Be ('.' + [IO.Path]::DirectorySeparatorChar + 'runs')
            $c.ResultType | Should -Be 'ProviderContainer'
        }
        finally { Pop-Location }
    }

    It 'gives no run completions, and no error, for a runs root that does not exist' {
        $env:TACOTRON_RUNS = Join-Path $TestDrive 'nowhere'
        Push-Location $TestDrive
        try {
            $Error.Clear()
            @(Get-Completion 'Get-TrainingMetrics -Run x' | Where-Object ResultType -eq 'ParameterValue') | Should -BeNullOrEmpty
            $Error.Count | Should -Be 0
        }
        finally { Pop-Location }
    }

    It 'is attached to every -Run parameter of the module' {
        $commands = Get-Command -Module TacotronRecovery | Where-Object { $_.Parameters.ContainsKey('Run') }
        $commands.Count | Should -BeGreaterThan 5
        foreach ($command in $commands) {
            $completer = $command.Parameters['Run'].Attributes | Where-Object { $_ -is [System.Management.Automation.ArgumentCompleterAttribute] }
            $completer.Type.Name | Should -Be 'RunCompleter' -Because "$($command.Name) -Run should complete run names"
        }
    }
}

Describe 'Completion of -Checkpoint' {
    BeforeAll { Push-Location $TestDrive }
    AfterAll { Pop-Location }

    It 'offers the checkpoints of the -Run on the command line, newest first, with step, Good and loss' {
        $c = Get-Completion "Invoke-EmergencyRecovery -Run demo -RunsRoot '$Root' -Checkpoint "
        $c.ListItemText | Should -Be 'step-000008.ckpt', 'step-000006.ckpt', 'step-000004.ckpt', 'step-000002.ckpt'
        $sep = [IO.Path]::DirectorySeparatorChar
        $c[2].CompletionText | Should -Be ".${sep}runs${sep}demo${sep}checkpoints${sep}step-000004.ckpt"
        $c[2].ToolTip | Should -Match '^step 4, Good, Best, loss 0\.25, diagonality 0\.5, saved '
        $c[1].ToolTip | Should -Match '^step 6, not good, loss 0\.167'
        $c[0].ToolTip | Should -Match '^step 8, not in the manifest'
        # What the completion inserts is a path the cmdlet accepts.
        $c[2].CompletionText | Should -Exist
    }

    It 'matches the file name or the path by prefix, ignoring case' {
        (Get-Completion "Start-TacotronTraining -RunsRoot '$Root' -Run demo -Checkpoint STEP-0000").Count | Should -Be 4
        (Get-Completion "Invoke-EmergencyRecovery -RunsRoot '$Root' -Run demo -Checkpoint step-000002").ListItemText | Should -Be 'step-000002.ckpt'
        $sep = [IO.Path]::DirectorySeparatorChar
        (Get-Completion "Invoke-EmergencyRecovery -Run demo -RunsRoot '$Root' -Checkpoint .${sep}runs${sep}demo${sep}checkpoints${sep}step-000006").ListItemText |
            Should -Be 'step-000006.ckpt'
    }

    It 'gives no checkpoint completions, and no error, for an unknown run or a corrupt manifest' {
        $bad = New-CheckpointRun -Root $Root -Name 'corrupt'
        Set-Content (Join-Path $bad 'checkpoints/manifest.json') '{ not json'
        $Error.Clear()
        foreach ($run in 'corrupt', 'nosuchrun') {
            @(Get-Completion "Invoke-EmergencyRecovery -Run $run -RunsRoot '$Root' -Checkpoint " | Where-Object ResultType -eq 'ParameterValue') |
                Should -BeNullOrEmpty -Because "run '$run' is unreadable"
        }
        $Error.Count | Should -Be 0
    }

    It 'completes paths when no -Run is given' {
        $c = Get-Completion 'Invoke-EmergencyRecovery -Checkpoint ./ru'
        $c.ResultType | Should -Be 'ProviderContainer'
    }
}

Describe 'Completion of -Preset' {
    It 'offers the presets Core knows, in order, with their dimensions as the tooltip' {
        $c = Get-Completion 'Start-TacotronTraining -Preset '
        $c.CompletionText | Should -Be ([TacotronRecovery.Core.Config.ModelOptions]::Presets)
        ($c | Where-Object CompletionText -eq 'demo').ToolTip | Should -Match '^demo: encoder 128 .*2 frame\(s\) per step'
    }

    It 'matches the typed prefix ignoring case' {
        (Get-Completion 'Start-TacotronTraining -Preset SM').CompletionText | Should -Be 'small'
    }

    It 'still rejects a preset Core does not know, naming the valid ones' {
        { Start-TacotronTraining -Preset bogus -Dataset $TestDrive } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError*' -ExpectedMessage '*bogus*nvidia, small, demo*'
    }
}
