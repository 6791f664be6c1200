-- Argo CD health of a switchboard.dev Integration or Connection, read from its conditions.
--
--   Healthy      Ready=True for the current generation (an Integration serving its last good
--                tools through an upstream outage stays Healthy and says so: an outage must not
--                hold back the sync waves that follow it).
--   Degraded     Stalled=True: the spec or its inputs are wrong and retrying will not help.
--   Progressing  anything else: not reconciled yet, a new generation not observed yet, or
--                Ready=False while the operator retries (a Secret not there yet, an upstream
--                down), with the operator's message.
--
-- Conditions carry observedGeneration; one written for an older generation says nothing about
-- the current spec, so health does not flap right after an apply.
local hs = { status = "Progressing", message = "Waiting for the switchboard operator" }
local status = obj.status
if status == nil or status.conditions == nil then
  return hs
end

local generation = obj.metadata and obj.metadata.generation
local function current(condition)
  if condition == nil then
    return false
  end
  local seen = condition.observedGeneration or status.observedGeneration
  return generation == nil or seen == nil or seen >= generation
end

if generation ~= nil and status.observedGeneration ~= nil and status.observedGeneration < generation then
  hs.message = "Waiting for the operator to observe generation " .. string.format("%d", generation)
  return hs
end

local by_type = {}
for _, condition in ipairs(status.conditions) do
  if condition.type ~= nil then
    by_type[condition.type] = condition
  end
end
local ready, stalled, stale = by_type["Ready"], by_type["Stalled"], by_type["Stale"]

local function say(condition, fallback)
  if condition ~= nil and condition.message ~= nil and condition.message ~= "" then
    return condition.message
  end
  if condition ~= nil and condition.reason ~= nil and condition.reason ~= "" then
    return condition.reason
  end
  return fallback
end

if current(stalled) and stalled.status == "True" then
  hs.status = "Degraded"
  hs.message = say(stalled, say(ready, "Stalled"))
  return hs
end

if current(ready) then
  if ready.status == "True" then
    hs.status = "Healthy"
    hs.message = say(ready, "Ready")
    if current(stale) and stale.status == "True" then
      hs.message = "Serving the last good tools: " .. say(stale, "discovery failed")
    end
    return hs
  end
  if ready.status == "False" then
    hs.message = "Retrying: " .. say(ready, "not ready")
    return hs
  end
end
return hs
