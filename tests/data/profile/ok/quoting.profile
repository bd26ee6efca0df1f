name: quoting
run * *: /usr/bin/python3 {root}/../../run/clients/client.py {protocol} {port} {features}
feature * extra: a"b c"d "" "\"" "\\" "a\b" back\slash "tab	inside" {{port} {{ }} } "{{user}}" "{user}"{password}
