# Databricks notebook source
# placeholder
