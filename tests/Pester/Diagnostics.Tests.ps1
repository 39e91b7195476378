BeforeAll {
    Import-Module $env:TACOTRON_MODULE_PATH -Force
    . (Join-Path $PSScriptRoot 'TinyRun.ps1')
    $script:ValidationIds = @(Get-Content (Join-Path $Corpus 'validation.txt') | Where-Object { $_ -and -not $_.StartsWith('#') })

    # A tiny model trained for two steps on the bundled corpus (seconds): enough for a real checkpoint in a real run folder.
    $config = New-TinyConfig (Join-Path $TestDrive 'tiny.yaml') -MaxSteps 2 -ValidationEverySteps 100 -MaxDecoderSteps 40 -TensorBoard $false
    $script:RunsRoot = Join-Path $TestDrive 'runs'
    Start-TacotronTraining -Config $config -RunsRoot $RunsRoot -Run diag | Out-Null
    $script:Checkpoint = (Get-TacotronCheckpoint -Run diag -RunsRoot $RunsRoot -Latest).Path
}

Describe 'Get-AttentionDiagnostics' {
    It 'diagnoses the first -Count validation sentences of the run''s dataset, free-running' {
        $d = @(Get-AttentionDiagnostics -Checkpoint $Checkpoint -Count 3)
        $d.Count | Should -Be 3
        $d[0] | Should -BeOfType ([TacotronRecovery.Commands.UtteranceDiagnostics])
        foreach ($u in $d) {
            $ValidationIds | Should -Contain $u.Id
            $u.TrueFrames | Should -BeGreaterThan 10
            $u.PredictedFrames | Should -BeLessOrEqual (40 * 2)   # max_decoder_steps × r (demo preset: r = 2)
            $u.Tokens | Should -BeGreaterThan 5
            $u.StopCorrect | Should -Not -BeNullOrEmpty
            foreach ($m in 'Diagonality', 'FocusRate', 'Coverage', 'Monotonicity') { $u.$m | Should -BeGreaterOrEqual 0; $u.$m | Should -BeLessOrEqual 1 }
            if ($u.HitMaxSteps) { $u.StopCorrect | Should -BeFalse }
            $u.Step | Should -Be 2
            $u.Checkpoint | Should -Be $Checkpoint
        }
        # File order of the validation split, as training measures it.
        $d.Id | Should -Be ($ValidationIds | Where-Object { $_ -in $d.Id })
    }

    It 'synthesises -Text sentences with no true length, and writes one attention PNG each with -PlotFolder' {
        $plots = Join-Path $TestDrive 'attention'
        $d = @(Get-AttentionDiagnostics -Checkpoint $Checkpoint -Text 'Hello there.', 'A second, longer sentence for the model.' -PlotFolder $plots)
        $d.Id | Should -Be 'text-1', 'text-2'
        $d[0].TrueFrames | Should -BeNullOrEmpty
        $d[0].StopCorrect | Should -BeNullOrEmpty
        $d[1].Tokens | Should -BeGreaterThan $d[0].Tokens
        foreach ($u in $d) {
            $u.Plot | Should -Exist
            $bytes = [IO.File]::ReadAllBytes($u.Plot)
            $bytes[1..3] | Should -Be @(0x50, 0x4E, 0x47)   # PNG
            $bytes.Length | Should -BeGreaterThan 5000
        }
        @(Get-ChildItem $plots -Filter 'attention-*.png').Count | Should -Be 2
    }

    It 'takes checkpoints from Get-TacotronCheckpoint through the pipeline' {
        $d = @(Get-TacotronCheckpoint -Run diag -RunsRoot $RunsRoot -Latest | Get-AttentionDiagnostics -Count 1)
        $d.Count | Should -Be 1
        $d[0].Checkpoint | Should -Be $Checkpoint
    }

    It 'fails with DatasetNotFound and a hint for a checkpoint outside a run folder, and works with -Dataset' {
        $loose = Join-Path $TestDrive 'loose.ckpt'
        Copy-Item $Checkpoint $loose
        $err = $null
        Get-AttentionDiagnostics -Checkpoint $loose -Count 1 -ErrorVariable err -ErrorAction SilentlyContinue | Should -BeNullOrEmpty
        $err[0].FullyQualifiedErrorId | Should -Be 'DatasetNotFound,TacotronRecovery.Commands.GetAttentionDiagnosticsCommand'
        $err[0].Exception.Message | Should -BeLike '*-Dataset*'
        @(Get-AttentionDiagnostics -Checkpoint $loose -Dataset $Corpus -Count 1).Count | Should -Be 1
    }

    It 'fails with DatasetNotFound naming the folder when -Dataset does not exist' {
        { Get-AttentionDiagnostics -Checkpoint $Checkpoint -Dataset (Join-Path $TestDrive 'nope') -Count 1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'DatasetNotFound,*' -ExpectedMessage '*nope*'
    }

    It 'fails with CheckpointCorrupt for a tampered checkpoint and for a missing one' {
        $bad = Join-Path $TestDrive 'tampered.ckpt'
        $bytes = [IO.File]::ReadAllBytes($Checkpoint)
        $bytes[[int]($bytes.Length / 2)] = $bytes[[int]($bytes.Length / 2)] -bxor 0x5A
        [IO.File]::WriteAllBytes($bad, $bytes)
        { Get-AttentionDiagnostics -Checkpoint $bad -Text 'Hi.' -ErrorAction Stop } |
            Should -Throw -ErrorId 'CheckpointCorrupt,*' -ExpectedMessage '*hash does not match*'
        { Get-AttentionDiagnostics -Checkpoint (Join-Path $TestDrive 'missing.ckpt') -Text 'Hi.' -ErrorAction Stop } |
            Should -Throw -ErrorId 'CheckpointCorrupt,*' -ExpectedMessage '*does not exist*'
    }

    It 'has a default table view and help with a synopsis, every parameter and a pipeline example' {
        (Get-FormatData -TypeName 'TacotronRecovery.Commands.UtteranceDiagnostics').FormatViewDefinition.Name | Should -Contain 'UtteranceDiagnostics'
        $module = Get-Module TacotronRecovery
        [xml] $xml = Get-Content -Raw (Join-Path $module.ModuleBase 'TacotronRecovery.Cmdlets.xml')
        $type = $xml.doc.members.member | Where-Object name -eq 'T:TacotronRecovery.Commands.GetAttentionDiagnosticsCommand'
        ($type.summary.para | Where-Object type -eq 'synopsis').'#text' | Should -Match 'free-running'
        @($type.summary.example | ForEach-Object { $_.code }) -join "`n" | Should -Match 'Get-TacotronCheckpoint .*\| Get-AttentionDiagnostics'
        foreach ($p in 'Checkpoint', 'Dataset', 'Count', 'Text', 'PlotFolder') {
            $m = $xml.doc.members.member | Where-Object name -eq "P:TacotronRecovery.Commands.GetAttentionDiagnosticsCommand.$p"
            ($m.summary.para | Where-Object type -eq 'description').'#text' | Should -Not -BeNullOrEmpty -Because "-$p needs a description"
        }
    }
}
