BeforeDiscovery {
    Import-Module $env:TACOTRON_MODULE_PATH -Force
    $OutputTypes = Get-Command -Module TacotronRecovery -CommandType Cmdlet | ForEach-Object { $_.OutputType.Type } |
        Where-Object { $_ -and $_.Namespace -like 'TacotronRecovery*' } | ForEach-Object FullName | Sort-Object -Unique
}

BeforeAll {
    Import-Module $env:TACOTRON_MODULE_PATH -Force
    $script:Repo = (Resolve-Path (Join-Path $PSScriptRoot '../..')).Path
    $script:Fixtures = Join-Path $PSScriptRoot 'fixtures/runs'
    $script:Figures = [TacotronRecovery.Core.Figures]

    # A raw float (0.88356837376073: 5+ significant digits after the point; 0.01235 is fine) or a raw TimeSpan
    # (00:00:04.3987081) in formatted text.
    $script:RawFloat = '\d[.,]0*[1-9]\d{4,}'
    $script:RawTimeSpan = '\d\d:\d\d:\d\d\.\d'

    function Format-Both($InputObject) {
        ($InputObject | Format-Table | Out-String -Width 200) + ($InputObject | Format-List | Out-String -Width 200)
    }

    function Get-ChildPwshPath {
        # The pwsh running the tests: its apphost in $PSHOME (pwsh runs as 'dotnet pwsh.dll' when it is a .NET tool).
        $apphost = Join-Path $PSHOME $(if ($IsWindows) { 'pwsh.exe' } else { 'pwsh' })
        if (Test-Path $apphost) { $apphost } else { [Environment]::ProcessPath }
    }

    # A fresh pwsh whose stdout is a pipe, i.e. redirected; its output and exit code.
    function Invoke-ChildPwsh([string] $Command, [hashtable] $Environment = @{}) {
        $saved = @{}
        foreach ($k in $Environment.Keys) { $saved[$k] = [Environment]::GetEnvironmentVariable($k); [Environment]::SetEnvironmentVariable($k, $Environment[$k]) }
        try {
            $out = & (Get-ChildPwshPath) -NoProfile -NonInteractive -Command $Command 2>&1 | Out-String
            [pscustomobject]@{ Text = $out; ExitCode = $LASTEXITCODE }
        } finally {
            foreach ($k in $saved.Keys) { [Environment]::SetEnvironmentVariable($k, $saved[$k]) }
        }
    }

    $F = $script:Figures
    $script:Samples = [ordered]@{
        StageReached = [TacotronRecovery.Core.Recovery.StageReached]@{
            Run = 'demo'; Stage = 'Stage2'; Name = 'Alignment forming'; Step = 520; StepsFromStart = 30
            Elapsed = [TimeSpan]::FromTicks(60820841); ForecastSteps = 200; OnSchedule = $true
            Diagonality = 0.6312345678; GateAccuracy = 0.7123456789; Quality = 55.5555555; Loss = 3.06345123456
        }
        RecoveryResult = [TacotronRecovery.Core.Recovery.RecoveryResult]@{
            Run = 'demo'; Outcome = 'Recovered'; Steps = 141; Minutes = 0.389413663333333; Diagonality = 0.842460479212572
            GateAccuracy = 0.87314126394052; Quality = 68.6123456; Loss = 3.0634512345; Decisions = 7
            GoodCheckpoint = 'runs/demo/checkpoints/step-000631.ckpt'
        }
        RecoveryPlan = [TacotronRecovery.Core.Recovery.RecoveryPlan]::Create(0.15367891234, 0.1, $null, 490, 'demo')
        RecoveryStage = [TacotronRecovery.Core.Recovery.RecoveryPlan]::Create(0.15367891234, 0.1, $null, 490, 'demo').Stages[1]
        HealthReport = [TacotronRecovery.Core.Health.HealthReport]@{
            Run = 'demo'; Status = 'Warning'; FirstStep = 320; LastStep = 571; StepsAnalyzed = 252; AlignmentsAnalyzed = 26
            Diagonality = 0.88356837376073; GateAccuracy = 0.896338680229525; Quality = 68.61234
            Findings = [TacotronRecovery.Core.Health.HealthFinding[]]@(
                [TacotronRecovery.Core.Health.HealthFinding]@{ Code = 'GradientExplosion'; Severity = 'Warning'; FirstStep = 539; LastStep = 539; Count = 1; Evidence = 'e'; Recommendation = 'r' })
        }
        StepMetrics = [TacotronRecovery.Core.Metrics.StepMetrics]@{
            Step = 12; Loss = 3.0634512345; MelLoss = 1.23456789; MelPostnetLoss = 1.1234567; GateLoss = 0.0123456789
            GuidedAttentionLoss = 0.00123456789; GradNorm = 1.72123456; LearningRate = 0.000512345; Mode = 'Normal'; StepSeconds = 0.1536789
        }
        AlignmentMetrics = [TacotronRecovery.Core.Metrics.AlignmentMetrics]@{
            Step = 100; Source = 'validation'; Diagonality = 0.6512345; FocusRate = 0.45123456; Coverage = 0.6012345
            Monotonicity = 0.9712345; GateAccuracy = 0.5012345; StopAccuracy = 0.123456789; Quality = 46.123456
        }
        TacotronRunInfo = [TacotronRecovery.Commands.TacotronRunInfo]@{ Run = 'demo'; Status = 'Completed'; Step = 571; LastLoss = 3.0634512345; LastDiagonality = 0.9212345678; Checkpoints = 12 }
        CheckpointInfo = [TacotronRecovery.Commands.CheckpointInfo]@{ Run = 'demo'; Path = '/r/demo/checkpoints/step-000571.ckpt'; Step = 571; Good = $true; Loss = 3.0634512345; Diagonality = 0.9212345678; GateAccuracy = 0.80123456 }
        UtteranceDiagnostics = [TacotronRecovery.Commands.UtteranceDiagnostics]@{ Id = 'DEMO-0027'; Text = 't'; Tokens = 40; TrueFrames = 120; PredictedFrames = 118; Diagonality = 0.9912345; FocusRate = 0.7512345; Coverage = 0.912345; Monotonicity = 0.99123456; ReachedEnd = $true; StopCorrect = $true }
        SynthesisInfo = [TacotronRecovery.Commands.SynthesisInfo]@{ Text = 't'; Path = '/r/held-out.wav'; Tokens = 40; Frames = 160; DurationSeconds = 1.8576123456; Diagonality = 0.9912345678; Seconds = 0.4123456789 }
        EnvironmentReport = [TacotronRecovery.Commands.EnvironmentReport]@{ Verdict = 'Ready'; OS = 'Linux'; CpuThreads = 2; TorchThreads = 2; RunsPath = '/r'; FreeDiskGB = 123.456789123 }
        DatasetSummary = [TacotronRecovery.Core.Data.DatasetSummary]@{ Path = '/c/metadata.csv'; Rows = 205; UsableRows = 205; TotalAudioHours = 0.0831234567; MeanDurationSeconds = 1.4561234567; MinDurationSeconds = 1.0241234567; MaxDurationSeconds = 2.2451234567 }
        ImportedCheckpoint = [TacotronRecovery.Commands.ImportedCheckpoint]@{ Path = '/r/x.ckpt'; Source = '/r/x.pt'; Format = 'zip'; Layout = 'train.py'; Step = 10; Preset = 'demo'; Parameters = 1770000 }
        ExportedCheckpoint = [TacotronRecovery.Commands.ExportedCheckpoint]@{ Path = '/r/x.pt'; Source = '/r/x.ckpt'; Format = 'PyTorch'; Step = 10; Tensors = 80 }
        ForwardOutput = [TacotronRecovery.Commands.ForwardOutput]@{ Path = '/r/x.npz'; Checkpoint = '/r/x.ckpt'; Batch = 2; InputTokens = 40; Frames = 120; Arrays = [string[]]@('alignments [2, 60, 40]') }
    }
}

Describe 'Formatting: every output type has a view' {
    It 'finds the output types of the cmdlets (<Count>)' -ForEach @{ Count = @($OutputTypes).Count } {
        $Count | Should -BeGreaterThan 15
    }

    It 'every type a cmdlet declares in [OutputType] has a format view (<_>)' -ForEach $OutputTypes {
        Get-FormatData -TypeName $_ | Should -Not -BeNullOrEmpty -Because "$_ is emitted by a cmdlet"
    }

    It 'the result objects have a short default table view and a readable list view' {
        foreach ($t in 'Recovery.RecoveryResult', 'Recovery.RecoveryPlan', 'Recovery.StageReached', 'Recovery.RecoveryStage', 'Health.HealthReport') {
            $views = (Get-FormatData -TypeName "TacotronRecovery.Core.$t").FormatViewDefinition
            $views | ForEach-Object { $_.Control.GetType().Name } | Should -Contain 'ListControl' -Because "$t needs a readable Format-List"
        }
        ($Samples.RecoveryResult | Out-String) | Should -Match '(?m)^demo\s+Recovered\s+141\s+0:23\s+84 %'
        ($Samples.RecoveryResult | Format-List | Out-String) | Should -Match '(?m)^Outcome\s+: Recovered'
        ($Samples.RecoveryPlan | Out-String) | Should -Match '(?m)^demo\s+490\s+0\.1537 s\s+790\s+0:46\s+Numerics, Alignment forming'
        ($Samples.RecoveryPlan | Format-List | Out-String) | Should -Match '(?m)^Stages\s+: Numerics\s+steps 490–540\s+forecast: step 540, 0:08'
    }
}

Describe 'Formatting: rounded figures, one convention' {
    It '<_> formats (table and list) with no long raw floats or raw TimeSpans' -ForEach @(
        'StageReached', 'RecoveryResult', 'RecoveryPlan', 'RecoveryStage', 'HealthReport', 'StepMetrics', 'AlignmentMetrics',
        'TacotronRunInfo', 'CheckpointInfo', 'UtteranceDiagnostics', 'SynthesisInfo', 'EnvironmentReport', 'DatasetSummary',
        'ImportedCheckpoint', 'ExportedCheckpoint', 'ForwardOutput'
    ) {
        $text = Format-Both $Samples[$_]
        $text | Should -Not -Match $RawFloat
        $text | Should -Not -Match $RawTimeSpan
    }

    It 'writes shares as whole percentages with a space, losses with 4 significant digits, durations as m:ss' {
        $r = Format-Both $Samples.RecoveryResult
        $r | Should -Match '(?m)^Diagonality\s+: 84 %$'
        $r | Should -Match '(?m)^GateAccuracy\s+: 87 %$'
        $r | Should -Match '(?m)^Quality\s+: 69 %$'
        $r | Should -Match '(?m)^Loss\s+: 3\.063$'
        $r | Should -Match '(?m)^Time\s+: 0:23$'
        $s = $Samples.StageReached | Format-Table | Out-String -Width 200
        $s | Should -Match 'Alignment forming\s+520\s+30\s+200\s+0:06\s+63 %\s+71 %\s+56 %'
        $h = $Samples.HealthReport | Format-List | Out-String -Width 200
        $h | Should -Match '(?m)^Diagonality\s+: 88 %$'
        $h | Should -Match 'Warning GradientExplosion \(steps 539\)'
    }

    It 'Figures: <Call> → <Expected>' -ForEach @(
        @{ Call = 'Share(0.9236)'; Value = { $Figures::Share(0.9236) }; Expected = '92 %' }
        @{ Call = 'Share(null)'; Value = { $Figures::Share($null) }; Expected = '' }
        @{ Call = 'Share(NaN)'; Value = { $Figures::Share([double]::NaN) }; Expected = 'NaN' }
        @{ Call = 'Percent(68.5)'; Value = { $Figures::Percent(68.5) }; Expected = '69 %' }
        @{ Call = 'Number(3.0634512)'; Value = { $Figures::Number(3.0634512) }; Expected = '3.063' }
        @{ Call = 'Number(0.0123456)'; Value = { $Figures::Number(0.0123456) }; Expected = '0.01235' }
        @{ Call = 'Duration(4.3987081 s)'; Value = { $Figures::Duration([TimeSpan]::FromTicks(43987081)) }; Expected = '0:04' }
        @{ Call = 'Duration(12 min 5 s)'; Value = { $Figures::Duration([TimeSpan]::new(0, 12, 5)) }; Expected = '12:05' }
        @{ Call = 'Duration(1 h 2 min 9 s)'; Value = { $Figures::Duration([TimeSpan]::new(1, 2, 9)) }; Expected = '1:02:09' }
        @{ Call = 'Minutes(0.707585306666667)'; Value = { $Figures::Minutes(0.707585306666667) }; Expected = '0:42' }
        @{ Call = 'Seconds(299.5)'; Value = { $Figures::Seconds(299.5) }; Expected = '5:00' }
    ) {
        & $Value | Should -BeExactly $Expected
    }

    It 'views round for reading only: the objects keep full precision' {
        $null = Format-Both $Samples.RecoveryResult
        $Samples.RecoveryResult.Minutes | Should -Be 0.389413663333333
        $Samples.RecoveryResult.Diagonality | Should -Be 0.842460479212572
    }

    It 'recorded runs (fixtures) format with no long raw floats' {
        $warning = Join-Path $Fixtures 'warning'
        $text = (Get-TacotronRun -RunsRoot $Fixtures | Out-String -Width 200) +
            (Get-TrainingMetrics -Run $warning -Kind All -Last 20 | Out-String -Width 200) +
            (Format-Both (Get-TrainingMetrics -Run $warning -Kind All -Last 300 | Test-LossHealth))
        $text | Should -Not -Match $RawFloat
        $text | Should -Match '\d %'
    }
}

Describe 'Formatting: no ANSI escape codes when redirected or NO_COLOR' {
    It 'a redirected demo.ps1 writes no ESC character (headers, verdict, error record)' {
        # A root without the corpus: the demo prints its first header and the environment verdict, then stops with an
        # error record (which pwsh colours red unless told otherwise) — colour sources that show up within seconds.
        $root = Join-Path $TestDrive 'no-corpus'
        New-Item -ItemType Directory -Force -Path $root | Out-Null
        $r = Invoke-ChildPwsh "Import-Module '$env:TACOTRON_MODULE_PATH'; & '$Repo/examples/demo.ps1' -Root '$root'" @{ NO_COLOR = $null }
        $r.Text | Should -Match '== 1\. Environment and data'
        $r.Text | Should -Match 'Dataset not found'
        $r.Text | Should -Not -Match "`e"
    }

    It 'with NO_COLOR, tables, lists, warnings and errors of the module are plain text' {
        $cmd = "Import-Module '$env:TACOTRON_MODULE_PATH'; Get-TacotronRun -RunsRoot '$Fixtures' | Out-Host; " +
            "Get-TrainingMetrics -Run '$Fixtures/warning' -Kind All -Last 300 | Test-LossHealth | Format-List | Out-Host; " +
            "Write-Host 'coloured?' -ForegroundColor Cyan; Write-Warning 'a warning'; Get-TacotronRun -Run nope -RunsRoot '$Fixtures'"
        $r = Invoke-ChildPwsh $cmd @{ NO_COLOR = '1' }
        $r.Text | Should -Match 'warning\s+Completed'
        $r.Text | Should -Match 'WARNING: a warning'
        $r.Text | Should -Not -Match "`e"
    }

    It 'with NO_COLOR on a terminal, the module''s output has no colour sequences' -Skip:(-not $IsLinux -or -not (Get-Command script -ErrorAction SilentlyContinue)) {
        # util-linux script(1) gives the child a pseudo-terminal. .NET itself writes terminal-mode sequences there
        # (keypad mode, cursor queries), so this looks for colour/attribute sequences (ESC [ ... m) only.
        $file = Join-Path $TestDrive 'tty.ps1'
        Set-Content -Path $file -Value @"
Import-Module '$env:TACOTRON_MODULE_PATH'
Get-TacotronRun -RunsRoot '$Fixtures' | Out-Host
Write-Host 'coloured?' -ForegroundColor Cyan
Write-Warning 'a warning'
"@
        $saved = $env:NO_COLOR
        try {
            $env:NO_COLOR = '1'
            $out = & script -qec "'$(Get-ChildPwshPath)' -NoProfile -NonInteractive -File '$file'" /dev/null 2>&1 | Out-String
        } finally { $env:NO_COLOR = $saved }
        $out | Should -Match 'warning\s+Completed'
        $out | Should -Not -Match "`e\[[0-9;]*m"
    }
}
