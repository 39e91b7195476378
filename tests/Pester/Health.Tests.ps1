BeforeAll {
    Import-Module $env:TACOTRON_MODULE_PATH -Force

    # Writes a recorded run (metrics.jsonl + alignment.jsonl in the run-directory dialect: snake_case, NaN as a string).
    function New-RecordedRun {
        param(
            [string] $Name,
            [int] $Steps = 600,
            [scriptblock] $Mutate = { param($r) $r },
            [double] $FinalDiagonality = 0.8
        )
        $dir = Join-Path $TestDrive "runs/$Name"
        New-Item -ItemType Directory -Force -Path $dir | Out-Null
        $rng = [System.Random]::new(11)
        $lines = foreach ($s in 1..$Steps) {
            $mel = 1.0 / [math]::Sqrt(1 + $s / 50.0) * (1 + 0.05 * ($rng.NextDouble() - 0.5))
            $r = [ordered]@{
                run = $Name; step = $s; time = '2026-01-01T00:00:00+00:00'; epoch = 0; learning_rate = 0.001
                loss = $mel * 1.9 + 0.06; mel_loss = $mel; mel_postnet_loss = $mel * 0.9; gate_loss = 0.05
                guided_attention_loss = 0.01; guided_attention_weight = 1.0; grad_norm = 1 + 0.2 * $rng.NextDouble()
                clip_threshold = 1.0; skipped = $false; safe_mode_level = 0; mode = 'Normal'; batch_size = 16; step_seconds = 0.5
            }
            (& $Mutate $r) | ConvertTo-Json -Compress
        }
        Set-Content -Path (Join-Path $dir 'metrics.jsonl') -Value $lines
        $align = foreach ($k in 1..[math]::Floor($Steps / 100)) {
            $d = [math]::Min($FinalDiagonality, 0.1 + 0.15 * $k)
            [ordered]@{ run = $Name; step = $k * 100; time = '2026-01-01T00:00:00+00:00'; source = 'train'; diagonality = $d
                focus_rate = 0.5; coverage = 0.6; monotonicity = 0.97; gate_accuracy = 0.9; quality = 70 } | ConvertTo-Json -Compress
        }
        Set-Content -Path (Join-Path $dir 'alignment.jsonl') -Value $align
        $dir
    }

    $script:Healthy = New-RecordedRun -Name healthy
    $script:NaNStorm = New-RecordedRun -Name nanstorm -Mutate {
        param($r)
        if ($r.step -ge 300 -and $r.step -lt 320) { $r.mel_loss = 'NaN'; $r.loss = 'NaN'; $r.grad_norm = 'NaN'; $r.skipped = $true }
        $r
    }
    $script:Explosion = New-RecordedRun -Name explosion -Mutate {
        param($r)
        if ($r.step -in 400, 410, 420) { $r.grad_norm = 80.0 }
        $r
    }
    $script:RunsRoot = Join-Path $TestDrive 'runs'

    # Help source: the XML doc comments shipped next to the cmdlet assembly (what the module's help is built from).
    function Get-CmdletDoc([string] $Class) {
        $module = Get-Module TacotronRecovery
        [xml] $xml = Get-Content -Raw (Join-Path $module.ModuleBase 'TacotronRecovery.Cmdlets.xml')
        $type = $xml.doc.members.member | Where-Object name -eq "T:TacotronRecovery.Commands.$Class"
        $params = @{}
        foreach ($m in $xml.doc.members.member | Where-Object name -like "P:TacotronRecovery.Commands.$Class.*") {
            $params[$m.name.Split('.')[-1]] = ($m.summary.para | Where-Object type -eq 'description').'#text'
        }
        [pscustomobject]@{
            Synopsis   = ($type.summary.para | Where-Object type -eq 'synopsis').'#text'
            Examples   = @($type.summary.example | ForEach-Object { $_.code })
            Parameters = $params
        }
    }
}

Describe 'Test-LossHealth' {
    It 'reports Healthy for a healthy recorded run' {
        $r = Test-LossHealth -Run $Healthy
        $r.PSObject.TypeNames[0] | Should -Be 'TacotronRecovery.Core.Health.HealthReport'
        $r.Status | Should -Be 'Healthy'
        $r.Findings | Should -BeNullOrEmpty
        $r.StepsAnalyzed | Should -Be 600
        $r.FirstStep | Should -Be 1
        $r.LastStep | Should -Be 600
        $r.Diagonality | Should -Be 0.8
        $r.Run | Should -Be 'healthy'
    }

    It 'finds a NaN storm as Critical with the component, steps and a recommendation' {
        $r = Test-LossHealth -Run nanstorm -RunsRoot $RunsRoot
        $r.Status | Should -Be 'Critical'
        $f = $r.Findings | Where-Object Code -eq 'NonFiniteLoss'
        $f.Severity | Should -Be 'Critical'
        $f.FirstStep | Should -Be 300
        $f.LastStep | Should -Be 319
        $f.Count | Should -Be 20
        $f.Evidence | Should -Match 'mel_loss ×20'
        $f.Recommendation | Should -Match 'learning rate'
        $r.Findings.Code | Should -Contain 'FrequentSkips'
    }

    It 'finds gradient explosions against the rolling median' {
        $r = Test-LossHealth -Run $Explosion
        $f = $r.Findings | Where-Object Code -eq 'GradientExplosion'
        $f.Count | Should -Be 3
        $f.FirstStep | Should -Be 400
        $f.LastStep | Should -Be 420
        $r.Status | Should -Be 'Critical'
    }

    It 'returns only $true or $false with -Quiet' {
        Test-LossHealth -Run $Healthy -Quiet | Should -BeExactly $true
        Test-LossHealth -Run $NaNStorm -Quiet | Should -BeExactly $false
        (Test-LossHealth -Run $NaNStorm -Quiet).GetType().Name | Should -Be 'Boolean'
    }

    It 'limits the analysis to the last N steps with -Last' {
        $r = Test-LossHealth -Run $NaNStorm -Last 200
        $r.StepsAnalyzed | Should -Be 200
        $r.FirstStep | Should -Be 401
        $r.Findings.Code | Should -Not -Contain 'NonFiniteLoss'
    }

    It 'takes ConvertFrom-Json objects with snake_case names from the pipeline' {
        $r = Get-Content (Join-Path $NaNStorm 'metrics.jsonl') | ConvertFrom-Json | Test-LossHealth
        $r.StepsAnalyzed | Should -Be 600
        ($r.Findings | Where-Object Code -eq 'NonFiniteLoss').Count | Should -Be 20
    }

    It 'takes Import-Csv rows (strings, NaN) and binds them by property name' {
        $csv = Join-Path $TestDrive 'steps.csv'
        1..300 | ForEach-Object {
            [pscustomobject]@{ Step = $_; Loss = if ($_ -eq 250) { 'NaN' } else { 1.0 / $_ + 0.5 }; MelLoss = 0.3; GradNorm = 1.0; LearningRate = 0.001; Skipped = ($_ -eq 250) }
        } | Export-Csv -Path $csv -NoTypeInformation
        $r = Import-Csv $csv | Test-LossHealth
        $r.StepsAnalyzed | Should -Be 300
        $f = $r.Findings | Where-Object Code -eq 'NonFiniteLoss'
        $f.FirstStep | Should -Be 250
        $f.Severity | Should -Be 'Warning'
        $r.Status | Should -Be 'Warning'
    }

    It 'accepts the Core records from Get-TrainingMetrics when that cmdlet is available' {
        if (-not (Get-Command Get-TrainingMetrics -ErrorAction SilentlyContinue)) { Set-ItResult -Skipped -Because 'Get-TrainingMetrics is not built yet'; return }
        $r = Get-TrainingMetrics -Run $Explosion | Test-LossHealth
        ($r.Findings | Where-Object Code -eq 'GradientExplosion').Count | Should -Be 3
    }

    It 'is Ready only when the latest validation (free-running) record meets the Done targets, never on training batches' {
        # Training batches look done; free-running validation never stops (issue 14's demo figures).
        $train = [pscustomobject]@{ Step = 610; Source = 'train'; Diagonality = 0.89; GateAccuracy = 0.80; Monotonicity = 1; Quality = 82.9 }
        $val = [pscustomobject]@{ Step = 611; Source = 'validation'; Sentences = 10; Diagonality = 0.9; GateAccuracy = 0.62; Monotonicity = 1
            Quality = 60.3; StopAccuracy = 0; LengthWithin10 = 0.2; StepLimitHits = 8 }
        $r = $train, $val | Test-LossHealth
        $r.Ready | Should -BeFalse
        $r.Unmet | Should -Contain 'StepLimitHits 8 of 10 (target ≤ 0)'
        $r.Unmet | Should -Contain 'GateAccuracy 62 % (target ≥ 80 %)'
        $r.Validation.Step | Should -Be 611
        $r.FiguresSource | Should -Match 'train step 610'
        ($r | Format-List | Out-String) | Should -Match 'Ready\s+: False: GateAccuracy 62 %'

        (, $train | Test-LossHealth).Unmet | Should -Be 'no validation (free-running) record yet'
        $good = [pscustomobject]@{ Step = 700; Source = 'validation'; Sentences = 10; Diagonality = 0.9; GateAccuracy = 0.9; Quality = 80
            LengthWithin10 = 1; StepLimitHits = 0; McdDtw = 2.1 }
        $ok = $train, $val, $good | Test-LossHealth
        $ok.Ready | Should -BeTrue
        $ok.Unmet | Should -BeNullOrEmpty
        ($ok | Format-List | Out-String) | Should -Match 'Ready\s+: True: validation step 700 \(10 sentences, free-running\)'
    }

    It 'writes InvalidMetricObject for an object that is not a metric record, and still reports' {
        $r = @([pscustomobject]@{ Foo = 1 }, [pscustomobject]@{ Step = 1; Loss = 'abc' }) | Test-LossHealth -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs.Count | Should -Be 2
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'InvalidMetricObject*'
        $errs[1].ToString() | Should -Match "Step 1: Property 'Loss' value 'abc' is not a number"
        $r.Status | Should -Be 'Healthy'
    }

    It 'fails with RunNotFound for an unknown run' {
        { Test-LossHealth -Run nosuchrun -RunsRoot $RunsRoot -ErrorAction Stop } | Should -Throw -ErrorId 'RunNotFound*'
    }

    It 'reads thresholds from the health section of -Config' {
        $cfg = Join-Path $TestDrive 'lenient.yaml'
        Set-Content $cfg "health:`n  grad_explosion_factor: 200`n"
        $r = Test-LossHealth -Run $Explosion -Config $cfg
        $r.Findings.Code | Should -Not -Contain 'GradientExplosion'
    }

    Context 'the run''s own thresholds' {
        BeforeAll {
            # The same metrics (three gradient norms of 80 against a median near 1.1) in two runs: 'tolerant' has a
            # config.yaml whose health section raises the explosion factor from 10 to 100, 'explosion' has none.
            function Copy-ExplosionRun([string] $Name) {
                $dir = Join-Path $RunsRoot $Name
                New-Item -ItemType Directory -Force -Path $dir | Out-Null
                foreach ($file in 'metrics.jsonl', 'alignment.jsonl') {
                    (Get-Content (Join-Path $Explosion $file)) -replace '"run":"explosion"', "`"run`":`"$Name`"" |
                        Set-Content (Join-Path $dir $file)
                }
                $dir
            }
            $script:Tolerant = Copy-ExplosionRun 'tolerant'
            $script:TolerantConfig = Join-Path $Tolerant 'config.yaml'
            Set-Content $TolerantConfig "name: tolerant`nhealth:`n  grad_explosion_factor: 100`n"
        }

        It 'judges -Run with the thresholds of the run''s config.yaml, and says so' {
            $default = Test-LossHealth -Run $Explosion
            $default.Status | Should -Not -Be 'Healthy'
            $default.Findings.Code | Should -Contain 'GradientExplosion'
            $default.ThresholdsSource | Should -Be 'defaults'

            $own = Test-LossHealth -Run tolerant -RunsRoot $RunsRoot
            $own.StepsAnalyzed | Should -Be $default.StepsAnalyzed
            $own.Status | Should -Be 'Healthy'
            $own.Findings.Code | Should -Not -Contain 'GradientExplosion'
            $own.ThresholdsSource | Should -Be $TolerantConfig
        }

        It 'uses the config of the run that piped metrics name (looked up under -RunsRoot)' {
            $r = Get-TrainingMetrics -Run tolerant -RunsRoot $RunsRoot | Test-LossHealth -RunsRoot $RunsRoot
            $r.Status | Should -Be 'Healthy'
            $r.ThresholdsSource | Should -Be $TolerantConfig
        }

        It 'falls back to the defaults when the piped run cannot be found, and says so' {
            Push-Location $TestDrive
            $saved = $env:TACOTRON_RUNS
            $env:TACOTRON_RUNS = Join-Path $TestDrive 'elsewhere'
            try {
                $r = Get-TrainingMetrics -Run $Tolerant | Test-LossHealth
            }
            finally {
                $env:TACOTRON_RUNS = $saved
                Pop-Location
            }
            $r.Findings.Code | Should -Contain 'GradientExplosion'
            $r.ThresholdsSource | Should -Be 'defaults'
        }

        It 'lets -Config win over the run''s config.yaml' {
            $cfg = Join-Path $TestDrive 'strict.yaml'
            Set-Content $cfg "health:`n  grad_explosion_factor: 10`n"
            $r = Test-LossHealth -Run $Tolerant -Config $cfg
            $r.Findings.Code | Should -Contain 'GradientExplosion'
            $r.ThresholdsSource | Should -Be $cfg
        }

        It 'warns and uses the defaults when the run''s config.yaml is invalid' {
            $broken = Copy-ExplosionRun 'broken-config'
            Set-Content (Join-Path $broken 'config.yaml') "health:`n  grad_explosion_factr: 100`n"
            $r = Test-LossHealth -Run $broken -WarningVariable warnings -WarningAction SilentlyContinue
            $warnings -join "`n" | Should -Match 'grad_explosion_factr'
            $r.ThresholdsSource | Should -Be 'defaults'
            $r.Findings.Code | Should -Contain 'GradientExplosion'
        }
    }

    It 'fails with the config error id for an unknown health key' {
        $cfg = Join-Path $TestDrive 'bad.yaml'
        Set-Content $cfg "health:`n  grad_explosion_factr: 200`n"
        { Test-LossHealth -Run $Explosion -Config $cfg -ErrorAction Stop } | Should -Throw -ErrorId 'ConfigInvalid*'
    }

    It 'has help with a synopsis, every parameter and a pipeline example' {
        $h = Get-CmdletDoc 'TestLossHealthCommand'
        $h.Synopsis | Should -Match 'HealthReport'
        $h.Examples -join "`n" | Should -Match 'Get-TrainingMetrics .*\| Test-LossHealth'
        foreach ($p in 'InputObject', 'Run', 'RunsRoot', 'Last', 'Config', 'Quiet') { $h.Parameters[$p] | Should -Not -BeNullOrEmpty -Because "-$p needs a description" }
    }
}

Describe 'Export-TacotronPlot' {
    It 'writes plots/metrics.png for a run and returns it with -PassThru' {
        $f = Export-TacotronPlot -Run $NaNStorm -PassThru
        $f | Should -BeOfType System.IO.FileInfo
        $f.FullName | Should -Be (Join-Path $NaNStorm 'plots/metrics.png')
        $bytes = [System.IO.File]::ReadAllBytes($f.FullName)
        $bytes[1..3] | Should -Be @(0x50, 0x4E, 0x47)
        $f.Length | Should -BeGreaterThan 20000
    }

    It 'loads SkiaSharp natively inside pwsh and renders text with the bundled font' {
        Export-TacotronPlot -Run $Healthy -OutFile (Join-Path $TestDrive 'h.png') | Out-Null
        $skia = [AppDomain]::CurrentDomain.GetAssemblies() | Where-Object { $_.GetName().Name -eq 'SkiaSharp' }
        $skia | Should -Not -BeNullOrEmpty
        [ScottPlot.Fonts]::Default | Should -Be 'DejaVu Sans'
        $bmp = [SkiaSharp.SKBitmap]::Decode((Join-Path $TestDrive 'h.png'))
        $dark = 0
        for ($x = 400; $x -lt 800; $x += 1) { for ($y = 0; $y -lt 40; $y++) { $c = $bmp.GetPixel($x, $y); if ($c.Red -lt 90) { $dark++ } } }
        $dark | Should -BeGreaterThan 50 -Because 'the title text must be drawn'
    }

    It 'marks a rollback from events.jsonl with a labelled line in the loss panel' {
        $dir = Join-Path $TestDrive 'runs/rolledback'
        New-Item -ItemType Directory -Force -Path $dir | Out-Null
        $t0 = [datetimeoffset]::new(2026, 1, 1, 0, 0, 0, [timespan]::Zero)
        Set-Content (Join-Path $dir 'metrics.jsonl') -Value $(foreach ($s in 1..300) {
            [ordered]@{ run = 'rolledback'; step = $s; time = $t0.AddSeconds($s).ToString('o'); learning_rate = 0.001; loss = 2.0 / [math]::Sqrt($s)
                mel_loss = 1.0 / [math]::Sqrt($s); grad_norm = 1.0; clip_threshold = 1.0; mode = 'Normal' } | ConvertTo-Json -Compress
        })
        Set-Content (Join-Path $dir 'events.jsonl') -Value ([ordered]@{ run = 'rolledback'; step = 200; time = $t0.AddSeconds(200.5).ToString('o')
            kind = 'Training'; code = 'RollbackCompleted'; severity = 'Warning'; message = 'Restored step-000150.ckpt (step 150); training continues at step 201.'
            data = @{ restored_step = 150 } } | ConvertTo-Json -Compress)
        $marked = Join-Path $TestDrive 'rolledback.png'
        $plain = Join-Path $TestDrive 'plain.png'
        Export-TacotronPlot -Run $dir -OutFile $marked
        Remove-Item (Join-Path $dir 'events.jsonl')
        Export-TacotronPlot -Run $dir -OutFile $plain
        # Pixels of the marker's red (#C62828: label box and dashed line) in the loss panel (top 34 % of 1400 px).
        $red = foreach ($png in $marked, $plain) {
            $bmp = [SkiaSharp.SKBitmap]::Decode($png)
            $n = 0
            for ($y = 0; $y -lt 476; $y += 2) { for ($x = 0; $x -lt $bmp.Width; $x += 2) {
                $c = $bmp.GetPixel($x, $y); if ([math]::Abs($c.Red - 198) -lt 30 -and $c.Green -lt 80 -and $c.Blue -lt 80) { $n++ } } }
            $n
        }
        $red[1] | Should -Be 0
        $red[0] | Should -BeGreaterThan 200 -Because 'the rollback marker must be drawn'
    }

    It 'draws an alignment heatmap from a JSON file' {
        $json = Join-Path $TestDrive 'attention.json'
        $rows = foreach ($i in 0..59) { , (0..19 | ForEach-Object { if ($_ -eq [math]::Floor($i / 3)) { 1.0 } else { 0.0 } }) }
        @{ alignment = $rows } | ConvertTo-Json -Depth 4 -Compress | Set-Content $json
        $f = Export-TacotronPlot -Kind Alignment -Path $json -PassThru
        $f.FullName | Should -Be (Join-Path $TestDrive 'attention.png')
        $f.Length | Should -BeGreaterThan 5000
    }

    It 'draws a gate curve from -Data' {
        $out = Join-Path $TestDrive 'gate.png'
        Export-TacotronPlot -Kind Gate -Data @(, [float[]](@(-5) * 40 + @(5) * 3)) -OutFile $out
        Test-Path $out | Should -BeTrue
    }

    It 'writes PlotDataInvalid for a ragged matrix' {
        $json = Join-Path $TestDrive 'ragged.json'
        Set-Content $json '[[0.5, 0.5], [1.0]]'
        Export-TacotronPlot -Kind Alignment -Path $json -ErrorVariable errs -ErrorAction SilentlyContinue
        $errs[0].FullyQualifiedErrorId | Should -BeLike 'PlotDataInvalid*'
        $errs[0].ToString() | Should -Match 'row 1 has 1 values'
    }

    It 'has help with a synopsis, every parameter and examples' {
        $h = Get-CmdletDoc 'ExportTacotronPlotCommand'
        $h.Synopsis | Should -Match 'PNG'
        $h.Examples.Count | Should -BeGreaterOrEqual 2
        foreach ($p in 'Run', 'RunsRoot', 'Last', 'Kind', 'Path', 'Data', 'OutFile', 'Title', 'PassThru') { $h.Parameters[$p] | Should -Not -BeNullOrEmpty -Because "-$p needs a description" }
    }
}
