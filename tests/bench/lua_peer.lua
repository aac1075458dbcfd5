-- The peer kubengx is measured against: a minimal rebuild of the way
-- ingress-nginx balances (rootfs/etc/nginx/lua/{configuration,balancer}.lua):
--
--   * the controller POSTs the JSON of every backend to
--     /configuration/backends; it is stored as ONE string in the
--     lua_shared_dict configuration_data, with a change counter (ingress-nginx
--     uses ngx.time(); a counter is strictly better, so the peer is not
--     penalised by its 1 s resolution);
--   * each worker, from a timer every POLL seconds (ingress-nginx: 1 s), or on
--     every request when per_request is set, compares the counter and on a
--     change cjson-decodes the WHOLE blob and rebuilds its balancers;
--   * rewrite phase: find the backend's balancer (503 when none);
--     balancer_by_lua: round robin, set_more_tries(1), set_current_peer.
--
-- Its round robin is a plain index (ingress-nginx uses resty.roundrobin,
-- which does more work per pick), so this is a lower bound of the Lua cost.

local cjson = require "cjson.safe"
local ngx_balancer = require "ngx.balancer"

local _M = {}

local configuration_data = ngx.shared.configuration_data
local balancers = {}
local synced_generation = -1
local check_per_request = false

local function sync_backends()
    local gen = configuration_data:get("generation") or 0
    if gen == synced_generation then
        return
    end
    local raw = configuration_data:get("backends")
    if not raw then
        return
    end
    local backends, err = cjson.decode(raw)
    if not backends then
        ngx.log(ngx.ERR, "could not parse backends data: ", err)
        return
    end
    local seen = {}
    for _, b in ipairs(backends) do
        local peers = {}
        for _, ep in ipairs(b.endpoints or {}) do
            peers[#peers + 1] = { ep.address, tonumber(ep.port) }
        end
        local bal = balancers[b.name]
        if bal then
            bal.peers = peers
            if bal.index > #peers then
                bal.index = 0
            end
        else
            balancers[b.name] = { peers = peers, index = 0 }
        end
        seen[b.name] = true
    end
    for name in pairs(balancers) do
        if not seen[name] then
            balancers[name] = nil
        end
    end
    synced_generation = gen
end

function _M.init_worker(poll, per_request)
    check_per_request = per_request
    sync_backends()
    if not per_request then
        local ok, err = ngx.timer.every(poll, sync_backends)
        if not ok then
            ngx.log(ngx.ERR, "error when setting up timer.every: ", err)
        end
    end
end

function _M.configure()
    ngx.req.read_body()
    local body = ngx.req.get_body_data()
    if not body then
        ngx.status = 400
        return ngx.exit(400)
    end
    local ok, err = configuration_data:set("backends", body)
    if not ok then
        ngx.log(ngx.ERR, "dynamic-configuration: error updating: ", err)
        return ngx.exit(500)
    end
    configuration_data:incr("generation", 1, 0)
    ngx.status = 201
end

function _M.rewrite()
    if check_per_request then
        sync_backends()
    end
    local bal = balancers["web"]
    if not bal or #bal.peers == 0 then
        ngx.status = 503
        return ngx.exit(503)
    end
    ngx.ctx.balancer = bal
end

function _M.balance()
    local bal = ngx.ctx.balancer
    if not bal then
        return
    end
    local peers = bal.peers
    local n = #peers
    if n == 0 then
        return ngx.exit(503)
    end
    local i = bal.index % n + 1
    bal.index = i
    local peer = peers[i]
    ngx_balancer.set_more_tries(1)
    local ok, err = ngx_balancer.set_current_peer(peer[1], peer[2])
    if not ok then
        ngx.log(ngx.ERR, "error while setting current upstream peer: ", err)
    end
end

return _M
