BeforeAll {
    Import-Module $env:TACOTRON_MODULE_PATH -Force
    $script:FakeToken = '123456:TEST-token-abcdefghijklmnopqrstuvwxyz'

    # A fake Telegram Bot API on 127.0.0.1 in its own runspace, stopped after $Seconds at the latest.
    function Start-FakeBotApi([int] $Seconds = 60) {
        $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $probe.Start(); $port = $probe.LocalEndpoint.Port; $probe.Stop()
        $log = [System.Collections.Concurrent.ConcurrentQueue[string]]::new()
        $ps = [powershell]::Create()
        $null = $ps.AddScript({
                param($Prefix, $Log, $Deadline)
                $listener = [System.Net.HttpListener]::new()
                $listener.Prefixes.Add($Prefix)
                $listener.Start()
                try {
                    while ([DateTime]::UtcNow -lt $Deadline) {
                        $task = $listener.GetContextAsync()
                        while (-not $task.Wait(100)) { if ([DateTime]::UtcNow -ge $Deadline) { return } }
                        $ctx = $task.Result
                        $body = [System.IO.StreamReader]::new($ctx.Request.InputStream).ReadToEnd()
                        $Log.Enqueue("$($ctx.Request.Url.AbsolutePath) $body")
                        $json = '{"ok":true,"result":{"message_id":4242,"date":1700000000,"chat":{"id":-100123,"type":"group","title":"t"},"text":"x"}}'
                        $bytes = [System.Text.Encoding]::UTF8.GetBytes($json)
                        $ctx.Response.ContentType = 'application/json'
                        $ctx.Response.ContentLength64 = $bytes.Length
                        $ctx.Response.OutputStream.Write($bytes, 0, $bytes.Length)
                        $ctx.Response.Close()
                    }
                } finally { $listener.Stop(); $listener.Close() }
            }).AddArgument("http://127.0.0.1:$port/").AddArgument($log).AddArgument([DateTime]::UtcNow.AddSeconds($Seconds))
        $handle = $ps.BeginInvoke()
        Start-Sleep -Milliseconds 300
        [pscustomobject]@{ Port = $port; Log = $log; PowerShell = $ps; Handle = $handle }
    }

    function Stop-FakeBotApi($Server) {
        $Server.PowerShell.Stop()
        $Server.PowerShell.Dispose()
    }
}

Describe 'Send-TrainingAlert' {
    BeforeEach {
        $script:OldToken = $env:TACOTRON_TELEGRAM_TOKEN
        $env:TACOTRON_TELEGRAM_TOKEN = $null
        Push-Location $TestDrive
    }
    AfterEach {
        Pop-Location
        $env:TACOTRON_TELEGRAM_TOKEN = $script:OldToken
        Remove-Item (Join-Path $TestDrive 'outbox') -Recurse -Force -ErrorAction SilentlyContinue
    }

    It 'shows the escaped message and sends nothing with -WhatIf' {
        $transcript = Join-Path $TestDrive 'whatif.txt'
        Start-Transcript -Path $transcript -Force | Out-Null
        $r = Send-TrainingAlert -Message '<b>&"' -Severity Warning -WhatIf -PassThru
        Stop-Transcript | Out-Null
        $r | Should -BeNullOrEmpty
        $text = Get-Content -Raw $transcript
        $text | Should -Match ([regex]::Escape('<b>⚠️ WARNING</b> · <b>&lt;b&gt;&amp;&quot;</b>'))
        Join-Path $TestDrive 'outbox' | Should -Not -Exist
    }

    It 'keeps the alert in the outbox with one warning and a Queued receipt when Telegram is not configured' {
        $r = Send-TrainingAlert -Message 'disk 95% full' -Severity Critical -PassThru -WarningVariable warnings -WarningAction SilentlyContinue
        $r.Status | Should -Be 'Queued'
        $r.Kind | Should -Be 'Critical'
        $r.MessageId | Should -BeNullOrEmpty
        $r.PSObject.TypeNames[0] | Should -Be 'TacotronRecovery.Commands.AlertReceipt'
        @($warnings).Count | Should -Be 1
        "$($warnings[0])" | Should -Match 'Telegram is not used \(telegram.enabled is false\)'
        $files = @(Get-ChildItem (Join-Path $TestDrive 'outbox') -Filter *.json)
        $files.Count | Should -Be 1
        $r.Path | Should -Be $files[0].FullName
        (Get-Content -Raw $files[0].FullName | ConvertFrom-Json).alert.title | Should -Be 'disk 95% full'
    }

    It 'renders pipeline objects by their properties' {
        $health = [pscustomobject]@{ Run = 'voice'; Status = 'Critical'; Findings = @([pscustomobject]@{ Severity = 'Critical'; Message = 'mel loss is NaN at step 1200' }); Recommendations = @('roll back') }
        $r = $health | Send-TrainingAlert -PassThru -WarningAction SilentlyContinue
        $r.Kind | Should -Be 'Critical'
        $r.Title | Should -Be 'Health: Critical'
        $r.Run | Should -Be 'voice'
        $entry = Get-Content -Raw $r.Path | ConvertFrom-Json
        $entry.alert.lines | Should -Be @('[Critical] mel loss is NaN at step 1200')
        $entry.alert.recommendations | Should -Be @('roll back')
    }

    It 'sends to a fake Bot API and returns a Sent receipt with the message id' {
        $server = Start-FakeBotApi -Seconds 60
        try {
            $config = Join-Path $TestDrive 'voice.yaml'
            @"
telegram:
  enabled: true
  chat_id: "-100123"
  bot_token: `${TACOTRON_TELEGRAM_TOKEN:-}
  api_base_url: http://127.0.0.1:$($server.Port)
"@ | Set-Content $config
            $token = ConvertTo-SecureString $script:FakeToken -AsPlainText -Force
            $r = Send-TrainingAlert -Message 'step <1000> & done' -Config $config -Token $token -PassThru -WarningVariable warnings
            $r.Status | Should -Be 'Sent'
            $r.MessageId | Should -Be 4242
            $r.ChatId | Should -Be '-100123'
            @($warnings).Count | Should -Be 0
            $requests = @($server.Log.ToArray())
            $requests.Count | Should -Be 1
            $requests[0] | Should -BeLike "/bot$($script:FakeToken)/sendMessage *"
            $body = $requests[0].Substring($requests[0].IndexOf(' ') + 1) | ConvertFrom-Json
            $body.chat_id | Should -Be -100123
            $body.text | Should -BeLike '<b>ℹ️ INFO</b> · <b>step &lt;1000&gt; &amp; done</b>*'
            $body.link_preview_options.is_disabled | Should -BeTrue
            ($r | Format-List * | Out-String) | Should -Not -Match 'TEST-token'
        } finally {
            Stop-FakeBotApi $server
        }
    }

    It 'warns and queues when Telegram is unreachable' {
        $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $probe.Start(); $port = $probe.LocalEndpoint.Port; $probe.Stop()
        $config = Join-Path $TestDrive 'down.yaml'
        "telegram:`n  enabled: true`n  chat_id: '-100123'`n  api_base_url: http://127.0.0.1:$port`n" | Set-Content $config
        $env:TACOTRON_TELEGRAM_TOKEN = $script:FakeToken
        $r = Send-TrainingAlert -Message 'unreachable' -Config $config -PassThru -WarningVariable warnings -WarningAction SilentlyContinue -ErrorVariable errors
        $r.Status | Should -Be 'Queued'
        @($errors).Count | Should -Be 0
        "$warnings" | Should -Match 'Telegram could not be reached'
        "$warnings" | Should -Not -Match 'TEST-token'
        Get-Content -Raw $r.Path | Should -Not -Match 'TEST-token'
    }

    It 'reports a config error with file, line and key' {
        $config = Join-Path $TestDrive 'bad.yaml'
        "telegram:`n  chat_idd: 1`n" | Set-Content $config
        { Send-TrainingAlert -Message 'x' -Config $config } | Should -Throw -ErrorId 'ConfigInvalid,TacotronRecovery.Commands.SendTrainingAlertCommand' -ExpectedMessage 'bad.yaml:2:3: telegram.chat_idd: unknown key (did you mean chat_id?)'
    }
}
