wrk.method = "POST"
wrk.body = "email=bench%40example.com&password=Granite-Kettle-42%21"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Origin"] = "http://127.0.0.1:3200"
