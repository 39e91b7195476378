BeforeAll {
    Import-Module $env:TACOTRON_MODULE_PATH -Force

    # A tiny WAV writer of its own (sine tone, PCM 8 or 16 bit), independent of the module's reader.
    function Write-TestWav {
        param([string] $Path, [double] $Seconds = 0.5, [int] $SampleRate = 22050, [int] $Channels = 1, [int] $Bits = 16, [double] $Frequency = 220)
        $frames = [int][math]::Round($Seconds * $SampleRate)
        $bytesPerSample = $Bits / 8
        $dataBytes = $frames * $Channels * $bytesPerSample
        $ascii = [System.Text.Encoding]::ASCII
        $w = [System.IO.BinaryWriter]::new([System.IO.File]::Create($Path))
        try {
            $w.Write($ascii.GetBytes('RIFF')); $w.Write([int](36 + $dataBytes)); $w.Write($ascii.GetBytes('WAVE'))
            $w.Write($ascii.GetBytes('fmt ')); $w.Write([int]16); $w.Write([int16]1); $w.Write([int16]$Channels)
            $w.Write([int]$SampleRate); $w.Write([int]($SampleRate * $Channels * $bytesPerSample))
            $w.Write([int16]($Channels * $bytesPerSample)); $w.Write([int16]$Bits)
            $w.Write($ascii.GetBytes('data')); $w.Write([int]$dataBytes)
            $step = 2 * [math]::PI * $Frequency / $SampleRate
            for ($i = 0; $i -lt $frames; $i++) {
                $v = 0.5 * [math]::Sin($step * $i)
                for ($c = 0; $c -lt $Channels; $c++) {
                    if ($Bits -eq 8) { $w.Write([byte][math]::Round(128 + 127 * $v)) } else { $w.Write([int16][math]::Round(32767 * $v)) }
                }
            }
        } finally { $w.Dispose() }
    }

    function Write-Metadata([string] $Folder, [object[]] $Lines) {
        # Each line is a string or a byte[] (to write bytes that are not UTF-8).
        $bytes = [System.Collections.Generic.List[byte]]::new()
        foreach ($line in $Lines) {
            if ($line -is [byte[]]) { $bytes.AddRange($line) } else { $bytes.AddRange([System.Text.Encoding]::UTF8.GetBytes($line)) }
            $bytes.Add(10)
        }
        [System.IO.File]::WriteAllBytes((Join-Path $Folder 'metadata.csv'), $bytes.ToArray())
    }

    # A good corpus: 4 rows.
    $script:good = Join-Path $TestDrive 'good'
    New-Item -ItemType Directory -Path (Join-Path $good 'wavs') -Force | Out-Null
    foreach ($i in 0..3) { Write-TestWav -Path (Join-Path $good "wavs/g$i.wav") -Seconds (0.5 + 0.1 * $i) -Frequency (200 + 30 * $i) }
    Write-Metadata $good @(0..3 | ForEach-Object { "g$_|Sentence number $_.|Sentence number $_." })

    # The broken copy: one problem per line from line 3 on.
    $script:broken = Join-Path $TestDrive 'broken'
    Copy-Item $good $broken -Recurse
    $wavs = Join-Path $broken 'wavs'
    $full = [System.IO.File]::ReadAllBytes((Join-Path $wavs 'g0.wav'))
    [System.IO.File]::WriteAllBytes((Join-Path $wavs 'trunc.wav'), $full[0..([int]($full.Length / 2))])
    Write-TestWav -Path (Join-Path $wavs 'eight.wav') -Bits 8
    Write-TestWav -Path (Join-Path $wavs 'hirate.wav') -SampleRate 44100
    Write-TestWav -Path (Join-Path $wavs 'stereo.wav') -Channels 2
    Write-TestWav -Path (Join-Path $wavs 'empty.wav')
    Write-TestWav -Path (Join-Path $wavs 'symbols.wav')
    Write-TestWav -Path (Join-Path $wavs 'latin1.wav')
    $latin1 = [byte[]]([System.Text.Encoding]::ASCII.GetBytes('latin1|Caf') + [byte[]](0xFF, 0xFE) + [System.Text.Encoding]::ASCII.GetBytes(' au lait|'))
    Write-Metadata $broken @(
        'g0|First good row.|First good row.'                 # 1
        'g1|Second good row.|Second good row.'               # 2
        'trunc|Truncated file.|Truncated file.'              # 3 TruncatedWav
        'eight|Eight bit file.|Eight bit file.'              # 4 UnsupportedFormat
        'hirate|High sample rate.|High sample rate.'         # 5 WrongSampleRate (Warning)
        'stereo|Two channels.|Two channels.'                 # 6 Stereo (Warning)
        'empty||'                                            # 7 EmptyText
        'missing|No such file.|No such file.'                # 8 MissingFile
        'symbols|Section § 漢 here.|Section § 漢 here.'      # 9 UnknownSymbols
        ,$latin1                                             # 10 InvalidEncoding (the comma keeps the byte[] one item)
    )
}

Describe 'Test-TacotronDataset' {
    It 'reports no problems and a full summary for a good corpus' {
        $out = @(Test-TacotronDataset -Path $good)
        $out.Count | Should -Be 1
        $s = $out[0]
        $s.PSObject.TypeNames[0] | Should -Be 'TacotronRecovery.Core.Data.DatasetSummary'
        $s.Rows | Should -Be 4
        $s.UsableRows | Should -Be 4
        $s.Errors | Should -Be 0
        $s.MinDurationSeconds | Should -Be 0.5
        $s.MaxDurationSeconds | Should -Be 0.8
        $s.TotalAudioHours | Should -Be 0.000722
        $s.TrainingRows + $s.ValidationRows | Should -Be 4
    }

    It 'reports each broken row with its code and line and returns normally' {
        $errorsBefore = $Error.Count
        $out = @(Test-TacotronDataset -Path $broken -ErrorAction Stop)
        $Error.Count | Should -Be $errorsBefore

        $problems = @($out | Where-Object { $_ -is [TacotronRecovery.Core.Data.DatasetProblem] })
        $found = $problems | ForEach-Object { '{0}:{1}:{2}' -f $_.Line, $_.Code, $_.Severity }
        $found | Should -Be @(
            '3:TruncatedWav:Error'
            '4:UnsupportedFormat:Error'
            '5:WrongSampleRate:Warning'
            '6:Stereo:Warning'
            '7:EmptyText:Error'
            '8:MissingFile:Error'
            '9:UnknownSymbols:Error'
            '10:InvalidEncoding:Error'
        )
        ($problems | Where-Object Code -eq 'UnknownSymbols').Message | Should -Match "'§'.*'漢'"
        ($problems | Where-Object Code -eq 'MissingFile').Path | Should -Be (Join-Path $broken 'wavs/missing.wav')
        ($problems | Where-Object Code -eq 'InvalidEncoding').Id | Should -Be 'latin1'

        $s = $out[-1]
        $s | Should -BeOfType ([TacotronRecovery.Core.Data.DatasetSummary])
        $s.Rows | Should -Be 10
        $s.UsableRows | Should -Be 4
        $s.SkippedRows | Should -Be 6
        $s.Errors | Should -Be 6
        $s.Warnings | Should -Be 2
        $s.ProblemCounts['TruncatedWav'] | Should -Be 1
        $s.ProblemCounts['InvalidEncoding'] | Should -Be 1
    }

    It 'makes another sample rate an error with -NoResample and unknown characters a warning with -UnknownCharacters Drop' {
        $out = @(Test-TacotronDataset $broken -NoResample -UnknownCharacters Drop)
        ($out | Where-Object Code -eq 'WrongSampleRate').Severity | Should -Be 'Error'
        ($out | Where-Object Code -eq 'UnknownSymbols').Severity | Should -Be 'Warning'
        $out[-1].UsableRows | Should -Be 4
    }

    It 'checks an NVIDIA filelist with paths relative to its folder' {
        Set-Content -Path (Join-Path $good 'train.txt') -Value @('wavs/g0.wav|Hello.', 'wavs/nope.wav|Gone.', 'no separator') -Encoding utf8NoBOM
        $out = @(Test-TacotronDataset (Join-Path $good 'train.txt'))
        ($out | Select-Object -SkipLast 1 | ForEach-Object { '{0}:{1}' -f $_.Line, $_.Code }) | Should -Be @('2:MissingFile', '3:MalformedLine')
        $out[-1].UsableRows | Should -Be 1
    }

    It 'stops with one DatasetNotFound error when the folder does not exist' {
        $missing = Join-Path $TestDrive 'nowhere'
        $err = { Test-TacotronDataset -Path $missing } | Should -Throw -PassThru
        $err.FullyQualifiedErrorId | Should -BeLike 'DatasetNotFound,*'
        $err.Exception.Message | Should -BeLike "*$missing*"
    }
}
