name: minimal
run * *: /usr/bin/python3 {root}/../../run/clients/client.py {protocol} {port}
